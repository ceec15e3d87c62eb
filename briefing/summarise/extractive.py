"""The extractive engine: always available, no download beyond the spaCy model.

The summary is a few whole sentences of the article (issue 9). By default it is the lead: the
first ``summary_sentences`` (3) sentences, bylines and boilerplate skipped. News is written as an
inverted pyramid, and no selector or word budget we tried beat the first three sentences on both
datasets under cross-validation, so the default has no tuned number (docs/eval.md). A word
budget (``summary_words``) is there for shorter summaries; its numbers, and the selectors', are
chosen by k-fold cross-validation on ``../shared/eval/dev.jsonl`` (``briefing eval --folds K``):

- ``lead``: the article's first sentences while they fit the budget.
- ``pacsum``: position-aware centrality over all-MiniLM-L6-v2 sentence embeddings (Zheng &
  Lapata, ACL 2019, "Sentence Centrality Revisited"): a sentence scores by its similarity to
  the sentences after it, minus a share of its similarity to those before it, plus a lead
  prior; the best sentences that fit the budget are kept, in article order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from spacy.tokens import Doc

from briefing.config import SummariserConfig
from briefing.models import Brief
from briefing.sentences import split_sentences
from briefing.summarise.actors import find_actors
from briefing.summarise.base import Document
from briefing.summarise.nlp import load_spacy

VERSION = "extractive-2"


@dataclass(frozen=True)
class Settings:
    """The selector's settings. Defaults are what cross-validation chose (docs/eval.md)."""

    method: Literal["lead", "pacsum"] = "lead"
    # The summary's length: whole sentences up to about this many words; 0: no word budget, the
    # first max_sentences sentences (the shipped default: Lead-3; docs/eval.md, issue 9).
    budget_words: int = 0
    # "nearest": a sentence goes in when it brings the length nearer the budget than stopping
    # would; "under": only when the total stays within the budget.
    fill: Literal["nearest", "under"] = "nearest"
    max_sentences: int = 3
    # pacsum only: weight of similarity to *earlier* sentences (negative: repeating the lead
    # costs), share of the similarity range below which an edge counts 0, lead prior weight.
    backward: float = -0.5
    threshold: float = 0.3
    position: float = 1.0
    min_words: int = 1  # shorter "sentences" are skipped (6 was tried: bylines, fragments)
    max_words: int = 80  # run-ons, usually a caption glued to a sentence, are never picked
    # Skip sentences ending in "?" (teasers such as "What exactly is service of process?"). The
    # splitter also ends quoted questions ("'what's more important?") that belong to the lead;
    # cross-validation keeps them in summaries (docs/eval.md). Headlines still skip them.
    skip_questions: bool = False

    def label(self) -> str:
        words = f"budget {self.budget_words}" if self.budget_words else "no word budget"
        budget = f"{self.max_sentences} sentences, {words} ({self.fill}, min {self.min_words} words" + \
            ("" if self.skip_questions else ", questions kept") + ")"
        if self.method == "lead":
            return f"lead, {budget}"
        return (f"pacsum, {budget}, backward {self.backward:g}, "
                f"threshold {self.threshold:g}, position {self.position:g}")


Weights = Settings  # the name other engines use for the extractive selector's settings

_BOILER = re.compile(r"^(by \w+|by\s*\.?$|published:|updated:|last updated|click here|read more|follow|\(cnn\)\s*$)",
                     re.IGNORECASE)


def sentences(nlp_doc: Doc | str) -> list[str]:
    """Sentences of an article (parsed or plain text), never crossing a paragraph break."""
    return split_sentences(nlp_doc if isinstance(nlp_doc, str) else nlp_doc.text)


def eligible(sent: str, s: Settings = Settings()) -> bool:
    words = len(sent.split())
    question = s.skip_questions and sent.endswith("?")
    return s.min_words <= words <= s.max_words and not _BOILER.match(sent) and not question


@dataclass
class Features:
    """What selection needs from one article, computed once (cross-validation reuses it)."""

    sents: list[str]
    words: list[int] = field(default_factory=list)
    sims: Any = None  # sentence-by-sentence cosine similarities (numpy), or None without MiniLM

    def __post_init__(self) -> None:
        self.words = [len(x.split()) for x in self.sents]


def features(sents: list[str], embed: bool = False) -> Features:
    f = Features(sents)
    if embed and len(sents) > 1:
        from briefing.summarise.guard import load_embedder

        embedder = load_embedder()
        if embedder is not None:
            vectors = embedder.encode(sents).numpy()
            f.sims = vectors @ vectors.T
    return f


def _pacsum_scores(f: Features, s: Settings) -> list[float]:
    import numpy as np

    n = len(f.sents)
    sims = f.sims
    off = sims[~np.eye(n, dtype=bool)]
    lo, hi = float(off.min()), float(off.max())
    edges = np.clip(sims - (lo + s.threshold * (hi - lo)), 0.0, None)
    scores = []
    for i in range(n):
        forward = float(edges[i, i + 1:].sum())
        backward = float(edges[i, :i].sum())
        scores.append((forward + s.backward * backward) / max(1, n - 1) + s.position / (1 + i))
    return scores


def select_indices(f: Features, s: Settings) -> list[int]:
    """Indices of the summary sentences, in article order, within the word budget.

    The first pick is kept even when it alone is over the budget: a summary is never empty and
    a sentence is never cut. ``lead`` stops at the first sentence that does not fit; ``pacsum``
    goes on down its ranking for one that does.
    """
    ok = [i for i, sent in enumerate(f.sents) if eligible(sent, s)] or list(range(min(1, len(f.sents))))
    if s.method == "pacsum" and f.sims is not None and len(ok) > 1:
        scores = _pacsum_scores(f, s)
        order = sorted(ok, key=lambda i: (-scores[i], i))
        stop_at_misfit = False
    else:
        order, stop_at_misfit = ok, True
    chosen: list[int] = []
    total = 0
    for i in order:
        if len(chosen) >= s.max_sentences:
            break
        after = total + f.words[i]
        fits = (not s.budget_words or after <= s.budget_words) if s.fill == "under" else \
            not s.budget_words or abs(after - s.budget_words) <= abs(total - s.budget_words)
        if chosen and not fits:
            if stop_at_misfit:
                break
            continue
        chosen.append(i)
        total += f.words[i]
    return sorted(chosen)


def select_sentences(nlp: Any, sents: list[str], n: int, w: Settings = Settings()) -> list[str]:
    """At most ``n`` summary sentences within the budget, in article order (``nlp`` is unused)."""
    s = Settings(**{**w.__dict__, "max_sentences": min(n, w.max_sentences)})
    f = features(sents, embed=s.method == "pacsum")
    return [sents[i] for i in select_indices(f, s)]


_HEADLINE = Settings(skip_questions=True)  # a headline is never a question or a quoted fragment of one


def headline_for(title: str, sents: list[str], max_chars: int = 110) -> str:
    """The publisher's title when there is one; otherwise the article's first real sentence.

    "Real" skips bylines and fragments (``eligible``); chrome such as "Media playback is not
    supported on this device" is already gone (``clean_article``). A sentence over
    ``max_chars`` is cut at the last clause break (comma, dash) before the limit, else at a
    word, and ends with " …".
    """
    if title.strip():
        return title.strip()
    first = next((x for x in sents if eligible(x, _HEADLINE)), sents[0] if sents else "")
    first = first.rstrip(".").strip()
    if len(first) <= max_chars:
        return first
    head = first[:max_chars]
    clause = max(head.rfind(", "), head.rfind(" - "), head.rfind(" – "), head.rfind("; "))
    cut = head[:clause] if clause >= max_chars // 2 else head.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;-–") + " …"


class ExtractiveEngine:
    name = "extractive"
    version = VERSION
    # Its brief runs no generative model (spaCy, and sentence embeddings for pacsum, are safe in
    # several threads at once): the service's worker need not queue it behind the model's work.
    quick_first = True

    def __init__(self, cfg: SummariserConfig, weights: Settings | None = None) -> None:
        self.cfg = cfg
        self.weights = weights or Settings(budget_words=cfg.summary_words, max_sentences=cfg.summary_sentences)
        # Cached briefs are reused only under the same selector settings (issue 3).
        self.version = f"{VERSION}+{self.weights.method}{self.weights.budget_words}"
        self.nlp = load_spacy(cfg.spacy_model)
        self.model = f"spacy/{self.nlp.meta.get('lang', 'en')}_{self.nlp.meta.get('name', '')}-{self.nlp.meta.get('version', '')}"

    def parse(self, text: str) -> Doc:
        return self.nlp(text)

    def summarise(self, doc: Document) -> Brief:
        parsed = self.parse(doc.text)
        sents = sentences(parsed)
        return Brief(
            headline=headline_for(doc.title, sents),
            summary=select_sentences(self.nlp, sents, self.cfg.summary_sentences, self.weights),
            actors=find_actors(parsed, self.cfg.max_actors),
            engine=self.name, model=self.model)

    def summarise_many(self, docs: list[Document]) -> list[Brief]:
        return [self.summarise(d) for d in docs]

    def settings_label(self) -> str:
        return self.weights.label()
