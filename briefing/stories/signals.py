"""The signals a clustering decision is made from, computed once per article.

- ``emb``: all-MiniLM-L6-v2 embedding of the title and lead (cosine similarity);
- ``ents``: named people, organisations and places (spaCy), compared by overlap;
- ``words``: content words of the title, compared by Jaccard similarity;
- ``published``: time, used as a hard window.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

ENTITY_LABELS = {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "PRODUCT", "EVENT"}
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP = frozenset("""the and for with from that this says said will over after into about than have has
were was are not but its their they you your more new what when who why how all out one two can may""".split())


@dataclass
class Features:
    key: str
    title: str
    outlet: str | None
    published: datetime | None
    emb: Any  # unit vector (numpy) or None when no embedder is installed
    ents: frozenset[str] = field(default_factory=frozenset)
    words: frozenset[str] = field(default_factory=frozenset)


def norm_entity(text: str) -> str:
    text = re.sub(r"['’]s$", "", text.strip()).lower()
    return re.sub(r"^the ", "", text)


def title_words(title: str) -> frozenset[str]:
    return frozenset(w for w in (m.lower() for m in _WORD.findall(title)) if w not in _STOP)


def lead(text: str, chars: int = 400) -> str:
    return " ".join(text.split())[:chars]


class FeatureExtractor:
    """Embeds and tags articles in batches; spaCy and MiniLM load once per process."""

    def __init__(self, spacy_model: str = "en_core_web_sm", use_embeddings: bool = True) -> None:
        from briefing.summarise.guard import load_embedder
        from briefing.summarise.nlp import load_spacy

        self.nlp = load_spacy(spacy_model)
        self.embedder = load_embedder() if use_embeddings else None

    def features(self, items: Sequence[tuple[str, str, str, str | None, datetime | None]]) -> list[Features]:
        """``items``: (key, title, text, outlet, published)."""
        texts = [f"{title}. {lead(text)}".strip() for _, title, text, _, _ in items]
        vectors: Any = [None] * len(items)
        if self.embedder is not None and items:
            vectors = []
            for i in range(0, len(texts), 64):
                vectors.extend(np.asarray(self.embedder.encode(texts[i:i + 64])))
        out = []
        for (key, title, text, outlet, published), doc, vec in zip(
                items, self.nlp.pipe(texts, disable=["lemmatizer"]), vectors):
            ents = frozenset(norm_entity(e.text) for e in doc.ents if e.label_ in ENTITY_LABELS)
            out.append(Features(key, title, outlet, published, vec, ents, title_words(title)))
        return out


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Share of the smaller entity set found in the other (a short title names few entities)."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def cosine(a: Any, b: Any) -> float:
    if a is None or b is None:
        return 0.0
    return float(np.dot(a, b))
