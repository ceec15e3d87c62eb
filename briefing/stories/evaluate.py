"""``briefing eval-stories``: score story clustering on a labelled set, thresholds by k-fold CV.

The set is JSONL, one article a line: ``id``, ``event`` (gold label), ``title``, ``text`` (may be
empty), ``outlet``, ``published`` (ISO). Folds split the *events* (an event's articles stay in one
fold). For each fold, weights, linkage and threshold are chosen on the other folds (best pairwise
F1 among settings whose pairwise precision reaches ``min_precision``; the most precise one when
none does); then the whole stream is clustered with them and only pairs of held-out articles are
scored, so every reported number is held-out.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from briefing.errors import ConfigError
import numpy as np

from briefing.stories.cluster import Params, Signals, cluster
from briefing.stories.metrics import BCubed, PairCounts, bcubed, pair_counts
from briefing.stories.signals import Features, FeatureExtractor

WEIGHTS = {  # (emb, ent, title): each signal alone, then combinations
    "embedding": (1.0, 0.0, 0.0),
    "entities": (0.0, 1.0, 0.0),
    "title words": (0.0, 0.0, 1.0),
    "emb+ent": (1.0, 1.0, 0.0),
    "emb+title": (1.0, 0.0, 1.0),
    "emb+ent+title": (1.0, 1.0, 1.0),
    "2emb+ent+title": (2.0, 1.0, 1.0),
}
THRESHOLDS = [round(0.30 + 0.025 * i, 3) for i in range(27)]  # 0.30 .. 0.95


@dataclass
class Example:
    key: str
    event: str
    title: str
    text: str
    outlet: str | None
    published: datetime | None


def load_set(path: str | Path) -> list[Example]:
    out = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            pub = datetime.fromisoformat(d["published"]) if d.get("published") else None
            out.append(Example(str(d["id"]), str(d["event"]), d["title"], d.get("text") or "", d.get("outlet"), pub))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}:{n}: not a labelled article ({exc})") from None
    if not out:
        raise ConfigError(f"{path}: no articles")
    out.sort(key=lambda e: (e.published is None, e.published or datetime.min, e.key))
    return out


@dataclass
class Scores:
    pairs: PairCounts
    b3: BCubed


@dataclass
class Report:
    name: str
    scores: Scores
    chosen: list[Params]


def _score(gold: Sequence[str], pred: Sequence[int], keep: set[int] | None = None) -> Scores:
    idx = [i for i in range(len(gold)) if keep is None or i in keep]
    g = [gold[i] for i in idx]
    p = [pred[i] for i in idx]
    return Scores(pair_counts(g, p), bcubed(g, p))


def folds(examples: Sequence[Example], k: int, seed: int = 12) -> list[set[int]]:
    events = sorted({e.event for e in examples})
    random.Random(seed).shuffle(events)
    fold_of = {ev: i % k for i, ev in enumerate(events)}
    out: list[set[int]] = [set() for _ in range(k)]
    for i, e in enumerate(examples):
        out[fold_of[e.event]].add(i)
    return out


def candidates(names: Sequence[str], window_hours: float) -> list[Params]:
    return [Params(threshold=t, w_emb=w[0], w_ent=w[1], w_title=w[2], linkage=link, window_hours=window_hours)
            for name in names for w in [WEIGHTS[name]] for link in ("mean", "max") for t in THRESHOLDS]


class Matrices:
    """Raw signals of every pair, as matrices, so a grid search re-weights instead of recomputing.

    :func:`fast_cluster` gives the same assignment as :class:`~briefing.stories.cluster.Clusterer`
    (a test checks) when stories stay under ``Params.max_members``.
    """

    def __init__(self, feats: Sequence[Features]) -> None:
        n = len(feats)
        self.raw = np.zeros((3, n, n), dtype=np.float32)
        signals = Signals()
        for i in range(n):
            for j in range(i):
                self.raw[:, i, j] = self.raw[:, j, i] = signals.raw(feats[i], feats[j])
        stamps = [f.published.timestamp() if f.published else np.nan for f in feats]
        self.hours = np.array(stamps, dtype=np.float64) / 3600.0

    def subset(self, idx: Sequence[int]) -> "Matrices":
        m = object.__new__(Matrices)
        ix = np.asarray(idx)
        m.raw = self.raw[:, ix][:, :, ix]
        m.hours = self.hours[ix]
        return m


def fast_cluster(m: Matrices, p: Params) -> list[int]:
    total = p.w_emb + p.w_ent + p.w_title
    w = np.array([p.w_emb, p.w_ent, p.w_title], dtype=np.float32) / (total or 1.0)
    scores = np.tensordot(w, m.raw, axes=1)
    n = scores.shape[0]
    labels = np.zeros(n, dtype=np.int64)
    last_seen: list[float] = []
    for i in range(n):
        k = len(last_seen)
        if k:
            row, lab = scores[i, :i], labels[:i]
            if p.linkage == "max":
                agg = np.full(k, -np.inf)
                np.maximum.at(agg, lab, row)
            else:
                agg = np.bincount(lab, weights=row, minlength=k) / np.maximum(np.bincount(lab, minlength=k), 1)
            t = m.hours[i]
            if not np.isnan(t):
                seen = np.array(last_seen)
                ok = np.isnan(seen) | (np.abs(t - seen) <= p.window_hours)
                agg = np.where(ok, agg, -np.inf)
            best = int(np.argmax(agg))
            if agg[best] > 0 and agg[best] >= p.threshold:
                labels[i] = best
                if not np.isnan(m.hours[i]):
                    last_seen[best] = np.nanmax([last_seen[best], m.hours[i]])
                continue
        labels[i] = k
        last_seen.append(m.hours[i])
    return labels.tolist()


def choose(m: Matrices, gold: list[str], params: list[Params], min_precision: float) -> Params:
    best, best_key = params[0], (-1.0, -1.0)
    for p in params:
        s = pair_counts(gold, fast_cluster(m, p))
        key = (s.f1, s.precision) if s.precision >= min_precision else (-1.0 + s.precision, 0.0)
        if key > best_key:
            best, best_key = p, key
    return best


def cross_validate(examples: list[Example], m: Matrices, names: Sequence[str], *, k: int,
                   min_precision: float, window_hours: float) -> Report:
    gold = [e.event for e in examples]
    grid = candidates(names, window_hours)
    total_pairs, total_b3, chosen = PairCounts(0, 0, 0), BCubed(0.0, 0.0, 0), []
    for held in folds(examples, k):
        train = [i for i in range(len(examples)) if i not in held]
        p = choose(m.subset(train), [gold[i] for i in train], grid, min_precision)
        chosen.append(p)
        s = _score(gold, fast_cluster(m, p), held)
        total_pairs, total_b3 = total_pairs + s.pairs, total_b3 + s.b3
    return Report(" + ".join(names) if len(names) > 1 else names[0], Scores(total_pairs, total_b3), chosen)


def extract(examples: Sequence[Example], spacy_model: str = "en_core_web_sm") -> list[Features]:
    fx = FeatureExtractor(spacy_model)
    return fx.features([(e.key, e.title, e.text, e.outlet, e.published) for e in examples])


def evaluate_fixed(examples: list[Example], feats: list[Features], params: Params) -> Scores:
    return _score([e.event for e in examples], cluster(feats, params))


def run(path: str | Path, *, k: int = 5, min_precision: float = 0.95, window_hours: float = 72.0,
        spacy_model: str = "en_core_web_sm", params: Params | None = None,
        ) -> tuple[list[Example], list[Report], Params | None]:
    """Held-out reports per signal set, and the setting the same procedure picks on the whole set."""
    examples = load_set(path)
    feats = extract(examples, spacy_model)
    if params is not None:
        return examples, [Report(f"fixed: {params.label()}", evaluate_fixed(examples, feats, params), [params])], None
    m = Matrices(feats)
    reports = [cross_validate(examples, m, [name], k=k, min_precision=min_precision,
                              window_hours=window_hours) for name in WEIGHTS]
    reports.append(cross_validate(examples, m, list(WEIGHTS), k=k, min_precision=min_precision,
                                  window_hours=window_hours))
    reports[-1].name = "all settings (chosen per fold)"
    final = choose(m, [e.event for e in examples], candidates(list(WEIGHTS), window_hours), min_precision)
    return examples, reports, final


def format_reports(examples: Sequence[Example], reports: Sequence[Report], k: int) -> str:
    n_events = len({e.event for e in examples})
    lines = [f"{len(examples)} articles, {n_events} gold stories; "
             f"{'held-out folds: ' + str(k) if len(reports) > 1 else 'in-sample (fixed setting)'}",
             f"{'signals':<32} {'pair P':>7} {'pair R':>7} {'pair F1':>7} {'B3 P':>7} {'B3 R':>7} {'B3 F1':>7}"]
    for r in reports:
        pc, b3 = r.scores.pairs, r.scores.b3
        lines.append(f"{r.name:<32} {pc.precision:7.3f} {pc.recall:7.3f} {pc.f1:7.3f} "
                     f"{b3.precision:7.3f} {b3.recall:7.3f} {b3.f1:7.3f}")
    last = reports[-1]
    lines.append("settings chosen per fold for the last row:")
    lines += [f"  fold {i + 1}: {p.label()}" for i, p in enumerate(last.chosen)]
    return "\n".join(lines)


def with_threshold(p: Params, threshold: float) -> Params:
    return replace(p, threshold=threshold)
