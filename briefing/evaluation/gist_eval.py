"""Gist columns for ``briefing eval`` (issue 10): ROUGE of the gist, novel bigrams, invented names and numbers.

The invented-name/number counter is deliberately **independent of the guard** (simpler and
stricter, sharing no code with :mod:`briefing.summarise.claims`), so it can check the guard:

* a *name* is a capitalised word, not the first word of the sentence, that occurs nowhere in the
  article (case-insensitive, whole word);
* a *number* is a figure written with digits; with its scale word ("1.3 million") it must equal
  a figure in the article exactly (no rounding tolerance, no digit-string matching).

Scored for the model's first gist (before the guard) and for the gist a reader sees (after it;
an empty gist counts as no invention and is counted in ``kept``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_FIGURE = re.compile(r"(?<![\w\-–/])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:\s?(million|billion|thousand|bn|m)\b)?",
                     re.IGNORECASE)
_SCALE = {"thousand": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9}


_NUMBER_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}


def _figures(text: str) -> set[float]:
    out = {float(_NUMBER_WORDS[w.lower()]) for w in _WORD.findall(text) if w.lower() in _NUMBER_WORDS}
    for m in _FIGURE.finditer(text):
        value = float(m.group(1).replace(",", "") + (f".{m.group(2)}" if m.group(2) else ""))
        out.add(round(value * _SCALE.get((m.group(3) or "").lower(), 1.0), 6))
    return out


def invented(sentence: str, article: str) -> list[str]:
    """Names and numbers in ``sentence`` that the article does not contain."""
    # "RSPCA's" is "RSPCA" and the plural possessive "Reds'" is "Reds", in the article as in the sentence.
    words = {re.sub(r"['’]s?$", "", w.lower()) for w in _WORD.findall(article)}
    words |= {part for w in words for part in w.split("-")}  # "French" occurs in "French-based"
    out = []
    for i, m in enumerate(_WORD.finditer(sentence)):
        w = re.sub(r"['’]s?$", "", m.group(0))
        if i > 0 and w[0].isupper() and w.lower().strip("'’-") not in words:
            out.append(w)
    have = _figures(article)
    digits = {round(float(m.group(1).replace(",", "") + (f".{m.group(2)}" if m.group(2) else ""))
                    * _SCALE.get((m.group(3) or "").lower(), 1.0), 6) for m in _FIGURE.finditer(sentence)}
    out += [f"{v:.15g}" for v in sorted(digits - have)]  # figures written with digits; "three" may be 3
    return out


def novel_bigram_share(sentence: str, article: str) -> float:
    """Share of the sentence's word bigrams not in the article: how abstractive it is."""
    def grams(text: str) -> set[tuple[str, str]]:
        ws = [w.lower() for w in _WORD.findall(text)]
        return set(zip(ws, ws[1:]))
    mine = grams(sentence)
    return len(mine - grams(article)) / len(mine) if mine else 0.0


@dataclass
class GistRow:
    dataset: str
    n: int = 0
    kept: int = 0  # briefs with a gist after the guard
    rouge1: float = 0.0  # of the shown gist, over briefs with one
    rouge2: float = 0.0
    rougeL: float = 0.0
    raw_rouge2: float = 0.0  # of the model's first gist, over all briefs
    novel_bigrams: float = 0.0
    invented_before: int = 0  # first gists with an invented name or number
    invented_after: int = 0  # shown gists with one
    seconds: float = 0.0  # gist time per brief
    words: float = 0.0
    positions_asked: int = 0  # key actors whose position the model condensed
    positions_kept: int = 0  # ... and the guard kept (against the actor's evidence sentence)


@dataclass
class GistColumns:
    """Accumulates gist scores over an evaluation; ``rows()`` gives per-dataset averages."""

    rows_: dict[str, GistRow] = field(default_factory=dict)
    scorer: Any = None

    def add(self, dataset: str, article: str, reference: str, brief: Any, engine: Any) -> None:
        stats = getattr(getattr(engine, "abstractor", None), "last", None)
        if stats is None:
            return  # an engine without a gist: no gist columns
        if self.scorer is None:
            from rouge_score import rouge_scorer

            self.scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
        shown, first = brief.gist, stats.first_gist
        raw = self.scorer.score(reference, first)["rouge2"].fmeasure if first else 0.0
        asked = len(getattr(stats, "positions", []))
        kept = sum(f.startswith("position of") for f in brief.flags)
        for key in (dataset, "overall"):
            r = self.rows_.setdefault(key, GistRow(key))
            r.n += 1
            r.positions_asked += asked
            r.positions_kept += kept
            r.raw_rouge2 += raw
            r.invented_before += bool(first and invented(first, article))
            r.seconds += stats.seconds
            if shown:
                s = self.scorer.score(reference, shown)
                r.kept += 1
                r.rouge1 += s["rouge1"].fmeasure
                r.rouge2 += s["rouge2"].fmeasure
                r.rougeL += s["rougeL"].fmeasure
                r.novel_bigrams += novel_bigram_share(shown, article)
                r.invented_after += bool(invented(shown, article))
                r.words += len(shown.split())

    def rows(self) -> list[GistRow]:
        out = []
        for key in sorted(self.rows_, key=lambda k: (k == "overall", k)):
            r = self.rows_[key]
            k = max(r.kept, 1)
            out.append(GistRow(r.dataset, r.n, r.kept, 100 * r.rouge1 / k, 100 * r.rouge2 / k, 100 * r.rougeL / k,
                               100 * r.raw_rouge2 / r.n, 100 * r.novel_bigrams / k, r.invented_before,
                               r.invented_after, r.seconds / r.n, r.words / k, r.positions_asked, r.positions_kept))
        return out


def format_rows(rows: list[GistRow]) -> str:
    if not rows:
        return ""
    lines = ["gist (model-written, after the guard; raw R2 = the model's first gist, before it; "
             "positions = condensed positions the guard kept / asked)",
             f"{'dataset':14} {'n':>4} {'kept':>5} {'R1':>6} {'R2':>6} {'RL':>6} {'raw R2':>7} {'novel2':>7} "
             f"{'inv.before':>10} {'inv.after':>9} {'words':>6} {'s/gist':>7} {'positions':>9}"]
    for r in rows:
        lines.append(f"{r.dataset.split(' ')[0][:14]:14} {r.n:>4} {r.kept:>5} {r.rouge1:6.1f} {r.rouge2:6.1f} "
                     f"{r.rougeL:6.1f} {r.raw_rouge2:7.1f} {r.novel_bigrams:6.0f}% {r.invented_before:>10} "
                     f"{r.invented_after:>9} {r.words:6.1f} {r.seconds:7.1f} "
                     f"{f'{r.positions_kept}/{r.positions_asked}':>9}")
    return "\n".join(lines)
