"""Splitting an article that is longer than the model's context into parts.

Parts follow paragraph boundaries; a paragraph too long for one part is split at sentences,
a sentence too long at words. Each part after the first repeats the end of the part before it
(up to ``overlap`` tokens: whole paragraphs, else whole sentences), so a statement that spans a break is seen whole once.
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


def _tail(units: list[str], count: Counter, overlap: int) -> list[str]:
    """The end of a part to repeat at the start of the next: whole units, else whole sentences."""
    carried: list[str] = []
    for unit in reversed(units):
        if count("\n\n".join([unit, *carried])) > overlap:
            break
        carried.insert(0, unit)
    if carried or not units:
        return carried
    sents = re.split(r"(?<=[.!?])\s+", units[-1])
    tail: list[str] = []
    for sent in reversed(sents[1:]):  # never the whole unit: that did not fit
        if count(" ".join([sent, *tail])) > overlap:
            break
        tail.insert(0, sent)
    return [" ".join(tail)] if tail else []


def split_parts(text: str, count: Counter, budget: int, overlap: int | None = None) -> list[str]:
    """Parts of at most ``budget`` tokens (by ``count``); ``overlap`` defaults to an eighth of it."""
    if count(text) <= budget:
        return [text]
    overlap = budget // 8 if overlap is None else overlap
    parts: list[list[str]] = []
    current: list[str] = []
    for unit in _units(text, count, budget):
        if current and count("\n\n".join([*current, unit])) > budget:
            parts.append(current)
            current = _tail(current, count, overlap)
            if current and count("\n\n".join([*current, unit])) > budget:
                current = []
        current.append(unit)
    parts.append(current)
    return ["\n\n".join(part) for part in parts]
