"""``briefing eval --folds K``: choose the extractive selector's settings by k-fold cross-validation.

Every article is cleaned, split and embedded once; each candidate setting's summary is a set
of sentence indices, scored once per distinct set. For each fold the setting is chosen on
the other folds and scored on the held-out one, beside Lead-3 on the same pairs, so every
number reported is out of sample (issue 9). The folds are stratified by dataset and fixed by
the seed.

The choice rule is the issue's "done" test turned into an objective: among settings whose
summaries are on average no longer than Lead-3's on every dataset of the training folds,
take the one whose *worst* paired gain over Lead-3 (R1 and R2, each dataset) is largest;
ties go to the larger mean gain. A setting that helps one dataset by hurting another loses.
"""

from __future__ import annotations

import itertools
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from briefing.evaluation.evaluate import ROUGE, Example, Rouge, article_text
from briefing.sentences import split_sentences
from briefing.summarise.extractive import Features, Settings, features, select_indices

BUDGETS = tuple(range(40, 105, 5))


def default_grid(pacsum: bool = True) -> list[Settings]:
    """Lead with a budget, and PacSum-style centrality over a grid of its three numbers.

    The fill rule and the minimum sentence length are fixed ("nearest", 1 word): tuning them
    too (242 settings) let one fold pick a 70-word budget with a 6-word minimum that lost 2.2
    R1 on its held-out CNN/DM pairs (docs/eval.md).
    """
    grid = [Settings(method="lead", budget_words=b, skip_questions=q) for b in BUDGETS for q in (True, False)]
    if pacsum:
        grid += [Settings(method="pacsum", budget_words=b, backward=back, threshold=thr, position=pos)
                 for b, back, thr, pos in itertools.product(BUDGETS, (-1.0, -0.5, 0.0), (0.0, 0.3), (0.0, 0.3, 1.0))]
    return grid


@dataclass
class _Prepared:
    example: Example
    feats: Features
    lead3: dict[str, float]  # ROUGE and words of Lead-3 on this article
    scores: dict[tuple[int, ...], dict[str, float]] = field(default_factory=dict)


@dataclass
class FoldRow:
    fold: int
    dataset: str
    n: int
    setting: str
    engine: dict[str, float]  # mean R1, R2, RLsum, words on the held-out fold
    lead3: dict[str, float]


@dataclass
class CVResult:
    k: int
    grid_size: int
    rows: list[FoldRow]
    chosen_on_all: Settings  # what the rule picks on every pair: the setting to ship


def _prepare(examples: Sequence[Example], rouge: Rouge, embed: bool,
             progress: Callable[[], None] | None) -> list[_Prepared]:
    out = []
    for ex in examples:
        text = article_text(ex)
        lead = split_sentences(text)[:3]
        lead3 = {**rouge(ex.reference, lead), "words": float(sum(len(s.split()) for s in lead))}
        out.append(_Prepared(ex, features(split_sentences(text), embed=embed), lead3))
        if progress:
            progress()
    return out


def _score(p: _Prepared, s: Settings, rouge: Rouge) -> dict[str, float]:
    idx = tuple(select_indices(p.feats, s))
    if idx not in p.scores:
        summary = [p.feats.sents[i] for i in idx]
        p.scores[idx] = {**rouge(p.example.reference, summary), "words": float(sum(p.feats.words[i] for i in idx))}
    return p.scores[idx]


def _means(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]} if rows else {}


def _objective(items: list[_Prepared], s: Settings, rouge: Rouge) -> tuple[float, float] | None:
    """(worst gain, mean gain) over datasets x {R1, R2}; None when longer than Lead-3 somewhere."""
    gains = []
    for _, group in itertools.groupby(sorted(items, key=lambda p: p.example.dataset), key=lambda p: p.example.dataset):
        group = list(group)
        mine = _means([_score(p, s, rouge) for p in group])
        base = _means([p.lead3 for p in group])
        if mine["words"] > base["words"]:
            return None
        gains += [mine["rouge1"] - base["rouge1"], mine["rouge2"] - base["rouge2"]]
    return min(gains), sum(gains) / len(gains)


def choose(items: list[_Prepared], grid: Sequence[Settings], rouge: Rouge) -> Settings:
    best, best_key = grid[0], None
    for s in grid:
        key = _objective(items, s, rouge)
        if key is not None and (best_key is None or key > best_key):
            best, best_key = s, key
    return best


def folds_of(examples: Sequence[Example], k: int, seed: int = 0) -> list[int]:
    """Fold number of each example, stratified by dataset."""
    fold = [0] * len(examples)
    by_dataset: dict[str, list[int]] = {}
    for i, ex in enumerate(examples):
        by_dataset.setdefault(ex.dataset, []).append(i)
    rng = random.Random(seed)
    for name in sorted(by_dataset):
        idx = by_dataset[name]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold[i] = j % k
    return fold


def cross_validate(examples: Sequence[Example], k: int = 5, grid: Sequence[Settings] | None = None, seed: int = 0,
                   progress: Callable[[], None] | None = None) -> CVResult:
    """``progress`` is called once per article prepared, then once per choice made (k folds and
    all pairs): ``progress_steps(len(examples), k)`` calls in all."""
    grid = list(grid or default_grid())
    rouge = Rouge()
    prepared = _prepare(examples, rouge, any(s.method == "pacsum" for s in grid), progress)
    fold = folds_of(examples, k, seed)
    rows: list[FoldRow] = []
    for f in range(k):
        train = [p for p, g in zip(prepared, fold) if g != f]
        test = [p for p, g in zip(prepared, fold) if g == f]
        chosen = choose(train, grid, rouge)
        if progress:
            progress()
        for name in sorted({p.example.dataset for p in test}):
            group = [p for p in test if p.example.dataset == name]
            rows.append(FoldRow(f + 1, name, len(group), chosen.label(),
                                _means([_score(p, chosen, rouge) for p in group]), _means([p.lead3 for p in group])))
    on_all = choose(prepared, grid, rouge)
    if progress:
        progress()
    return CVResult(k, len(grid), rows, on_all)


def progress_steps(n_examples: int, k: int) -> int:
    return n_examples + k + 1


def _sd(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def format_cv(result: CVResult) -> str:
    keys = (*ROUGE, "words")
    lines = [f"{result.k}-fold cross-validation of the extractive selector over {result.grid_size} settings; "
             "every score is on the held-out fold.",
             f"{'fold':>4} {'dataset':14} {'n':>3} {'R1':>5} {'R2':>5} {'RLsum':>5} {'words':>5}   "
             f"{'Lead-3: R1':>10} {'R2':>5} {'RLsum':>5} {'words':>5}   setting chosen on the other folds"]
    for r in result.rows:
        lines.append(f"{r.fold:>4} {r.dataset[:14]:14} {r.n:>3} " + " ".join(f"{r.engine[k]:5.1f}" for k in keys)
                     + f"   {r.lead3['rouge1']:10.1f} " + " ".join(f"{r.lead3[k]:5.1f}" for k in keys[1:])
                     + f"   {r.setting}")
    lines += ["", "mean ± sd across held-out folds:"]
    for name in sorted({r.dataset for r in result.rows}):
        rows = [r for r in result.rows if r.dataset == name]
        cells = []
        for k in keys:
            e, b = [r.engine[k] for r in rows], [r.lead3[k] for r in rows]
            d = [x - y for x, y in zip(e, b)]
            # The difference to two decimals: on XSum the honest answer is a few hundredths.
            cells.append(f"{k} {statistics.mean(e):.1f}±{_sd(e):.1f} (Lead-3 {statistics.mean(b):.1f}±{_sd(b):.1f},"
                         f" diff {statistics.mean(d):+.2f}±{_sd(d):.2f})")
        lines.append(f"  {name}: " + "; ".join(cells))
    lines += ["", f"chosen on all pairs (the budget cross-validation would ship): {result.chosen_on_all.label()}"]
    return "\n".join(lines)


__all__ = ["CVResult", "FoldRow", "choose", "cross_validate", "default_grid", "folds_of", "format_cv", "progress_steps"]
