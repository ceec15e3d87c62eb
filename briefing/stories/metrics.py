"""Clustering scores against gold labels: pairwise precision/recall/F1 and B-cubed.

Pairwise: over all pairs of items, a pair is a true positive when both the prediction and the
gold labels put the two items together. B-cubed (Bagga & Baldwin 1998): per item, the share of its
predicted cluster that shares its gold label (precision) and the share of its gold cluster that the
prediction put with it (recall), averaged over items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PairCounts:
    tp: int
    fp: int
    fn: int

    def __add__(self, other: "PairCounts") -> "PairCounts":
        return PairCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        return f1(self.precision, self.recall)


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pair_counts(gold: Sequence[str], pred: Sequence[object]) -> PairCounts:
    both = Counter(zip(gold, pred))
    tp = sum(_pairs(n) for n in both.values())
    pred_pairs = sum(_pairs(n) for n in Counter(pred).values())
    gold_pairs = sum(_pairs(n) for n in Counter(gold).values())
    return PairCounts(tp, pred_pairs - tp, gold_pairs - tp)


@dataclass(frozen=True)
class BCubed:
    precision_sum: float
    recall_sum: float
    n: int

    def __add__(self, other: "BCubed") -> "BCubed":
        return BCubed(self.precision_sum + other.precision_sum, self.recall_sum + other.recall_sum, self.n + other.n)

    @property
    def precision(self) -> float:
        return self.precision_sum / self.n if self.n else 1.0

    @property
    def recall(self) -> float:
        return self.recall_sum / self.n if self.n else 1.0

    @property
    def f1(self) -> float:
        return f1(self.precision, self.recall)


def bcubed(gold: Sequence[str], pred: Sequence[object]) -> BCubed:
    both = Counter(zip(gold, pred))
    g, p = Counter(gold), Counter(pred)
    prec = sum(n * n / p[pl] for (_, pl), n in both.items())
    rec = sum(n * n / g[gl] for (gl, _), n in both.items())
    return BCubed(prec, rec, len(gold))
