"""Splitting an article that is longer than the model's context into parts.

Parts follow paragraph boundaries; a paragraph too long for one part is split at sentences,
a sentence too long at words. Each part after the first repeats the end of the part before it
(up to ``overlap`` tokens of whole units), so a statement that spans a break is seen whole once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Counter = Callable[[str], int]


def _units(text: str, count: Counter, budget: int) -> list[str]:
    """Paragraphs, with any paragraph over budget broken into sentences, then words."""
    out: list[str] = []
    for para in (p.strip() for p in re.split(r"\n\s*\n", text)):
        if not para:
            continue
        if count(para) <= budget:
            out.append(para)
            continue
        for sent in re.split(r"(?<=[.!?])\s+", para):
            if count(sent) <= budget:
                out.append(sent)
                continue
            words, piece = sent.split(), []
            for word in words:
                if piece and count(" ".join(piece + [word])) > budget:
                    out.append(" ".join(piece))
                    piece = []
                piece.append(word)
            if piece:
                out.append(" ".join(piece))
    return out


def split_parts(text: str, count: Counter, budget: int, overlap: int = 64) -> list[str]:
    """Parts of at most ``budget`` tokens (by ``count``), joined with blank lines."""
    if count(text) <= budget:
        return [text]
    units = _units(text, count, budget)
    sizes = [count(u) for u in units]
    parts: list[list[int]] = []
    current: list[int] = []
    for i, size in enumerate(sizes):
        if current and sum(sizes[j] for j in current) + size > budget:
            parts.append(current)
            carried: list[int] = []
            for j in reversed(current):  # the end of the previous part, whole units, within overlap
                if sum(sizes[k] for k in carried) + sizes[j] > overlap or \
                        sum(sizes[k] for k in carried) + sizes[j] + size > budget:
                    break
                carried.insert(0, j)
            current = carried
        current.append(i)
    parts.append(current)
    return ["\n\n".join(units[j] for j in part) for part in parts]
