"""``briefing eval``: score briefs against reference summaries, beside Lead-3, honestly.

ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 from ``rouge-score`` with stemming; for Lsum, summary and
reference sentences go on separate lines. Reported per ``source_dataset`` (the datasets differ
too much to average), always beside Lead-3 on the same pairs, with the paired difference and a
bootstrap 95% interval (issue 9), words per summary and seconds per article.

Columns are data, not code in the table: an engine that can say more about its briefs (a
model's gist, say) exposes ``eval_extras()`` returning :class:`Extra` objects, each a function
from one scored article to named values plus the :class:`Column` objects that show their
means. ``evaluate`` adds them to the engine's row and to ``--json``; nothing here changes.

``cross_validate`` (``--folds K``) chooses the extractive selector's settings by k-fold
cross-validation and reports each held-out fold, so no tuned number is scored on the pairs it
was chosen on.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from briefing.config import Config
from briefing.errors import ParseError
from briefing.ingest.clean import clean_article
from briefing.models import Brief
from briefing.sentences import split_sentences
from briefing.evaluation.gist_eval import GistColumns, GistRow, format_rows
from briefing.summarise import Document, Engine, build_engine
from briefing.summarise.guard import name_grounded, padded

ROUGE = ("rouge1", "rouge2", "rougeLsum")
BOOTSTRAP_RESAMPLES = 1000


@dataclass(frozen=True)
class Example:
    id: str
    article: str
    reference: str
    source_dataset: str

    @property
    def dataset(self) -> str:
        # "cnn_dailymail (test split, ...)" -> "cnn_dailymail": the full name is in --json.
        return self.source_dataset.split(" ")[0]


@dataclass
class Scored:
    """One article's brief and its scores: what every column is computed from."""

    example: Example
    text: str  # the cleaned article the engine read
    brief: Brief
    seconds: float
    values: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Column:
    key: str  # in Scored.values
    header: str
    fmt: str = "{:.1f}"  # of the mean over the articles that have a value
    width: int = 7


@dataclass(frozen=True)
class Extra:
    """Extra per-article metrics an engine adds to ``briefing eval`` (see the module doc)."""

    compute: Callable[[Scored], dict[str, float | None]]
    columns: tuple[Column, ...]


def _guard_values(s: Scored) -> dict[str, float | None]:
    actors = s.brief.actors
    return {
        "actors": float(len(actors)),
        "empty": float(sum(1 for a in actors if not a.position.strip())),
        "grounded": 100.0 * sum(name_grounded(a.name, padded(s.text)) for a in actors) / len(actors)
        if actors else None,
        "grounding": s.brief.grounding_score,
        "dropped": float(sum(1 for f in s.brief.flags if f.startswith("dropped sentence"))),
    }


# Shown for every engine but Lead-3 (which has no actors).
BRIEF_EXTRA = Extra(_guard_values, (Column("actors", "actors"), Column("empty", "empty pos", "{:.2f}", 9),
                                    Column("grounded", "grounded%", "{:.0f}", 9),
                                    Column("grounding", "grounding", "{:.2f}", 9),
                                    Column("dropped", "dropped", "{:.2f}", 7)))


@dataclass
class Side:
    """Means for one summariser on one dataset."""

    name: str
    means: dict[str, float | None]


@dataclass
class Interval:
    diff: float
    low: float
    high: float


@dataclass
class DatasetResult:
    dataset: str
    n: int
    engine: Side
    baseline: Side | None  # Lead-3 on the same pairs; None when the engine is Lead-3
    diffs: dict[str, Interval] = field(default_factory=dict)  # engine - Lead-3, per ROUGE metric


@dataclass
class EvalResult:
    engine: str
    model: str | None
    settings: str | None
    columns: list[Column]
    datasets: list[DatasetResult] = field(default_factory=list)
    gist: list[GistRow] = field(default_factory=list)  # gist columns (evaluation/gist_eval.py), when there is a gist

    def to_json(self) -> str:
        def side(s: Side | None) -> dict[str, Any] | None:
            return None if s is None else {"name": s.name, **s.means}

        return json.dumps({"engine": self.engine, "model": self.model, "settings": self.settings,
                           "datasets": [{"dataset": d.dataset, "n": d.n, "engine": side(d.engine),
                                         "lead3": side(d.baseline),
                                         "difference": {k: vars(v) for k, v in d.diffs.items()}}
                                        for d in self.datasets],
                           "gist": [asdict(g) for g in self.gist]}, indent=2)


def load_examples(path: Path, limit: int | None = None) -> list[Example]:
    examples = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ParseError(f"{path}: cannot read: {exc.strerror or exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            examples.append(Example(str(obj["id"]), obj["article"], obj["reference"],
                                    obj.get("source_dataset", "all")))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ParseError(f"{path}:{n}: expected a JSON object with id, article, reference "
                             f"({type(exc).__name__}: {exc})") from None
        if limit and len(examples) >= limit:
            break
    return examples


class Lead3:
    """Baseline: the first three sentences of the article."""

    name, model, version = "lead-3", None, "1"

    def summarise(self, doc: Document) -> Brief:
        return Brief(headline=doc.title, summary=split_sentences(doc.text)[:3], actors=[], engine=self.name)

    def summarise_many(self, docs: list[Document]) -> list[Brief]:
        return [self.summarise(d) for d in docs]


class Rouge:
    """ROUGE F1 x100 against a reference, with its sentences on lines for Lsum."""

    def __init__(self) -> None:
        from rouge_score import rouge_scorer

        self.scorer = rouge_scorer.RougeScorer(list(ROUGE), use_stemmer=True)

    def __call__(self, reference: str, summary: list[str]) -> dict[str, float]:
        scores = self.scorer.score("\n".join(split_sentences(reference)), "\n".join(summary))
        return {k: 100 * scores[k].fmeasure for k in ROUGE}


def article_text(ex: Example) -> str:
    return clean_article(ex.article, title="")[1]


def _run(engine: Engine, ex: Example, text: str, rouge: Rouge, extras: Sequence[Extra]) -> Scored:
    start = time.perf_counter()
    brief = engine.summarise(Document(title="", text=text))
    s = Scored(ex, text, brief, time.perf_counter() - start)
    s.values.update(rouge(ex.reference, brief.summary))
    s.values["words"] = float(len(brief.summary_text.split()))
    s.values["seconds"] = s.seconds
    for extra in extras:
        s.values.update(extra.compute(s))
    return s


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def bootstrap(diffs: list[float], resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> Interval:
    """Mean paired difference and its percentile bootstrap 95% interval."""
    import numpy as np

    d = np.asarray(diffs, dtype=float)
    idx = np.random.default_rng(seed).integers(0, len(d), size=(resamples, len(d)))
    means = d[idx].mean(axis=1)
    return Interval(float(d.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))


BASE_COLUMNS = [Column("rouge1", "R1", width=6), Column("rouge2", "R2", width=6), Column("rougeLsum", "RLsum", width=6),
                Column("words", "words", width=6), Column("seconds", "s/article", "{:.3f}", 9)]


def evaluate(config: Config, examples: list[Example], *, baseline: bool = False, engine: Engine | None = None,
             progress: Callable[[], None] | None = None) -> EvalResult:
    """The engine, and Lead-3 on the same cleaned articles, per dataset."""
    engine = engine or (Lead3() if baseline else build_engine(config.summariser))
    is_lead3 = isinstance(engine, Lead3)
    extras: list[Extra] = [] if is_lead3 else [BRIEF_EXTRA, *getattr(engine, "eval_extras", lambda: [])()]
    rouge, lead3 = Rouge(), Lead3()
    by_dataset: dict[str, list[tuple[Scored, Scored | None]]] = defaultdict(list)
    gist = GistColumns()
    for ex in examples:
        text = article_text(ex)
        mine = _run(engine, ex, text, rouge, extras)
        gist.add(ex.dataset, text, ex.reference, mine.brief, engine)
        base = None if is_lead3 else _run(lead3, ex, text, rouge, [])
        by_dataset[ex.dataset].append((mine, base))
        if progress:
            progress()
    columns = BASE_COLUMNS + [c for e in extras for c in e.columns]
    settings = getattr(getattr(engine, "weights", None), "label", lambda: None)()
    out = EvalResult(engine=engine.name, model=engine.model, settings=settings, columns=columns, gist=gist.rows())
    for name in sorted(by_dataset):
        pairs = by_dataset[name]
        mine_side = Side(engine.name, {c.key: _mean([m.values.get(c.key) for m, _ in pairs]) for c in columns})
        result = DatasetResult(name, len(pairs), mine_side, None)
        if not is_lead3:
            result.baseline = Side("lead-3", {c.key: _mean([b.values.get(c.key) for _, b in pairs if b])
                                              for c in BASE_COLUMNS})
            for key in ROUGE:
                result.diffs[key] = bootstrap([float(m.values[key] or 0) - float(b.values[key] or 0)
                                               for m, b in pairs if b])
        out.datasets.append(result)
    return out


def _cell(col: Column, value: float | None) -> str:
    return f"{'-' if value is None else col.fmt.format(value):>{max(col.width, len(col.header))}}"


def format_table(result: EvalResult) -> str:
    head = f"engine: {result.engine}" + (f" ({result.model})" if result.model else "")
    lines = [head + (f"; selector: {result.settings}" if result.settings else "")]
    header = " ".join(f"{c.header:>{max(c.width, len(c.header))}}" for c in result.columns)
    for d in result.datasets:
        lines += ["", f"{d.dataset} ({d.n} pairs)", f"  {'':24} {header}"]
        for side in (d.engine, d.baseline):
            if side is not None:
                lines.append(f"  {side.name[:24]:24} " + " ".join(_cell(c, side.means.get(c.key))
                                                                    for c in result.columns))
        if d.diffs:
            lines.append("  difference, 95% interval " + "   ".join(
                f"{c.header} {d.diffs[c.key].diff:+.1f} [{d.diffs[c.key].low:+.1f}, {d.diffs[c.key].high:+.1f}]"
                for c in result.columns if c.key in d.diffs))
    if any(d.diffs for d in result.datasets):
        lines += ["", f"difference: {result.engine} minus lead-3 on the same pairs; interval: paired bootstrap, "
                      f"{BOOTSTRAP_RESAMPLES} resamples."]
    if result.gist:
        lines += ["", format_rows(result.gist)]
    return "\n".join(lines)
