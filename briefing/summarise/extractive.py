"""The extractive engine: always available, no download beyond the spaCy model.

Summary sentences are chosen by a score that mixes lead position, centrality
(similarity of a sentence's content words to the whole article) and length,
then de-duplicated with maximal marginal relevance and put back in article
order. Weights were chosen on ``../shared/eval/dev.jsonl`` (see docs/eval.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc

from briefing.config import SummariserConfig
from briefing.models import Brief
from briefing.summarise.actors import find_actors
from briefing.summarise.base import Document
from briefing.summarise.nlp import load_spacy

VERSION = "extractive-1"


@dataclass(frozen=True)
class Weights:
    # Chosen on the dev set (docs/extractive.md): centrality counts twice the lead
    # prior; a length preference and a stronger redundancy penalty both lowered ROUGE-2.
    position: float = 1.0
    centrality: float = 2.0
    length: float = 0.0
    redundancy: float = 0.3
    min_words: int = 6
    max_words: int = 80  # run-ons (often a caption glued to a sentence) are never picked


_BOILER = re.compile(r"^(by \w+|published:|updated:|last updated|click here|read more|follow|\(cnn\)\s*$)",
                     re.IGNORECASE)


def sentences(nlp_doc: Doc) -> list[str]:
    """Sentences of a parsed article, never crossing a paragraph break."""
    out: list[str] = []
    for sent in nlp_doc.sents:
        for piece in re.split(r"\n\s*\n", sent.text):
            piece = " ".join(piece.split())
            if piece:
                out.append(piece)
    return out


def _content_words(nlp: Language, text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in nlp.Defaults.stop_words and len(w) > 2]


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))


def select_sentences(nlp: Language, sents: list[str], n: int, w: Weights = Weights()) -> list[str]:
    """Pick ``n`` summary sentences, returned in article order."""
    if len(sents) <= n:
        return sents
    bags = [Counter(_content_words(nlp, s)) for s in sents]
    doc_bag: Counter[str] = Counter()
    for bag in bags:
        doc_bag.update(set(bag))  # document frequency across sentences = centrality signal
    scores: list[float] = []
    for i, (s, bag) in enumerate(zip(sents, bags)):
        words = len(s.split())
        if words < w.min_words or words > w.max_words or _BOILER.match(s) or s.endswith("?"):
            scores.append(-math.inf)
            continue
        position = 1.0 / math.sqrt(1 + i)
        centrality = _cosine(bag, doc_bag)
        length = -abs(math.log(words / 25.0))
        scores.append(w.position * position + w.centrality * centrality + w.length * length)
    chosen: list[int] = []
    while len(chosen) < n:
        best, best_score = None, -math.inf
        for i, base in enumerate(scores):
            if i in chosen or base == -math.inf:
                continue
            overlap = max((_cosine(bags[i], bags[j]) for j in chosen), default=0.0)
            score = base - w.redundancy * overlap
            if score > best_score:
                best, best_score = i, score
        if best is None:
            break
        chosen.append(best)
    return [sents[i] for i in sorted(chosen)]


def headline_for(title: str, sents: list[str], max_chars: int = 110) -> str:
    if title.strip():
        return title.strip()
    first = sents[0] if sents else ""
    if len(first) <= max_chars:
        return first.rstrip(".")
    return first[:max_chars].rsplit(" ", 1)[0] + " …"


class ExtractiveEngine:
    name = "extractive"
    version = VERSION

    def __init__(self, cfg: SummariserConfig, weights: Weights = Weights()) -> None:
        self.cfg = cfg
        self.weights = weights
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
