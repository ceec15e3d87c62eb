"""``briefing eval``: score briefs against reference summaries with ROUGE.

ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 from ``rouge-score`` with stemming; for
Lsum, summary and reference sentences go on separate lines. Reported per
``source_dataset`` and overall, with the guard's statistics and speed.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from briefing.config import Config
from briefing.errors import ParseError
from briefing.ingest.clean import clean_article
from briefing.models import Brief
from briefing.service.gist_eval import GistColumns, format_rows
from briefing.summarise import Document, Engine, build_engine
from briefing.summarise.guard import name_grounded, padded


@dataclass(frozen=True)
class Example:
    id: str
    article: str
    reference: str
    source_dataset: str


@dataclass
class Row:
    dataset: str
    n: int = 0
    rouge1: float = 0.0
    rouge2: float = 0.0
    rougeLsum: float = 0.0
    actors: int = 0
    grounded_actors: int = 0
    dropped_sentences: int = 0
    summary_words: float = 0.0
    seconds: float = 0.0
    grounding: float = 0.0  # mean grounding score of the briefs the guard scored
    scored: int = 0

    @property
    def grounded_share(self) -> float | None:
        return self.grounded_actors / self.actors if self.actors else None


@dataclass
class EvalResult:
    engine: str
    model: str | None
    rows: list[Row] = field(default_factory=list)
    gist: list[Any] = field(default_factory=list)  # gist columns (service/gist_eval.py), when there is a gist

    def to_json(self) -> str:
        return json.dumps({"engine": self.engine, "model": self.model,
                           "rows": [{**asdict(r), "grounded_share": r.grounded_share} for r in self.rows],
                           "gist": [asdict(g) for g in self.gist]},
                          indent=2)


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


def split_sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[\"'A-Z0-9])|\n+", text.strip())
    return [p.strip() for p in parts if p.strip()]


class Lead3:
    """Baseline: the first three sentences of the article."""

    name, model, version = "lead-3", None, "1"

    def summarise(self, doc: Document) -> Brief:
        return Brief(headline=doc.title, summary=split_sentences(doc.text)[:3], actors=[], engine=self.name)

    def summarise_many(self, docs: list[Document]) -> list[Brief]:
        return [self.summarise(d) for d in docs]


def evaluate(config: Config, examples: list[Example], *, baseline: bool = False, engine: Engine | None = None,
             progress: Callable[[], None] | None = None) -> EvalResult:
    from rouge_score import rouge_scorer

    engine = engine or (Lead3() if baseline else build_engine(config.summariser))
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    rows: dict[str, Row] = defaultdict(lambda: Row(dataset=""))
    gist = GistColumns()
    for ex in examples:
        _, text = clean_article(ex.article, title="")
        start = time.perf_counter()
        brief = engine.summarise(Document(title="", text=text))
        elapsed = time.perf_counter() - start
        scores = scorer.score("\n".join(split_sentences(ex.reference)), "\n".join(brief.summary))
        gist.add(ex.source_dataset, text, ex.reference, brief, engine)
        dropped = sum(1 for f in brief.flags if f.startswith("dropped sentence"))
        for key in (ex.source_dataset, "overall"):
            r = rows[key]
            r.dataset = key
            r.n += 1
            r.rouge1 += scores["rouge1"].fmeasure
            r.rouge2 += scores["rouge2"].fmeasure
            r.rougeLsum += scores["rougeLsum"].fmeasure
            r.actors += len(brief.actors)
            r.grounded_actors += sum(name_grounded(a.name, padded(text)) for a in brief.actors)
            r.dropped_sentences += dropped
            r.summary_words += len(brief.summary_text.split())
            r.seconds += elapsed
            if brief.grounding_score is not None:
                r.grounding += brief.grounding_score
                r.scored += 1
        if progress:
            progress()
    out = EvalResult(engine=engine.name, model=engine.model, gist=gist.rows())
    for key in sorted(rows, key=lambda k: (k == "overall", k)):
        r = rows[key]
        for attr in ("rouge1", "rouge2", "rougeLsum"):
            setattr(r, attr, 100 * getattr(r, attr) / r.n)
        r.summary_words /= r.n
        r.seconds /= r.n
        r.grounding = r.grounding / r.scored if r.scored else 0.0
        out.rows.append(r)
    return out


def format_table(result: EvalResult) -> str:
    head = f"engine: {result.engine}" + (f" ({result.model})" if result.model else "")
    lines = [head, f"{'dataset':14} {'n':>4} {'R1':>6} {'R2':>6} {'RLsum':>6} {'grounded':>9} "
                   f"{'grounding':>9} {'dropped':>8} {'words':>6} {'s/article':>9}"]
    for r in result.rows:
        share = f"{100 * r.grounded_share:.0f}%" if r.grounded_share is not None else "-"
        grounding = f"{r.grounding:.2f}" if r.scored else "-"
        # "cnn_dailymail (test split, ...)" -> "cnn_dailymail": the full name is in --json.
        name = r.dataset.split(" ")[0][:14]
        lines.append(f"{name:14} {r.n:>4} {r.rouge1:6.1f} {r.rouge2:6.1f} {r.rougeLsum:6.1f} {share:>9} "
                     f"{grounding:>9} {r.dropped_sentences:>8} {r.summary_words:6.1f} {r.seconds:9.2f}")
    return "\n".join(lines) + (f"\n\n{format_rows(result.gist)}" if result.gist else "")
