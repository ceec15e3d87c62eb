"""Checking the claims of one model-written sentence against its source, not its word overlap.

A sentence a model wrote (a gist, a condensed position) is kept only when every check passes:

* **Names.** Every named entity and proper noun occurs in the source (the guard's rule).
* **Quantities.** Each number is read with its scale, unit and what it counts: "1.3 million"
  is 1,250,000–1,350,000 (the precision the sentence claims), so it does not match 1,084,604;
  "2012-13" is a season, so it holds no "13"; "£5m" is money, "80%" a share; "23 lives" needs
  23 of lives (or of nothing named) in the source, not "23 people missing". A quantity no
  source quantity matches on value, kind and counted noun makes the sentence unsupported.
* **Negation.** A verb the sentence negates must be negated somewhere in the source, and one
  it affirms affirmed somewhere ("was not charged" against "was charged"); verbs the source
  does not use are left to the entailment check.
* **Who did what.** "A beat B" is unsupported when the source says "B beat A" and never
  "A beat B"; a role given with "as" ("joins as assistant coach") must be the source's words.
* **Entailment.** Last, the local model is asked whether the article supports the sentence,
  with its answer constrained to ``yes`` or ``no`` (see :mod:`briefing.summarise.gist`).

Each check returns the reason it failed, which goes into the brief's flags.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Token

from briefing.summarise.guard import _ENTITY_LABELS, name_grounded, norm, padded

_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9,
           "trillion": 1e12, "tn": 1e12}
_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
          "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
          "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12}
_CURRENCY = {"£": "GBP", "$": "USD", "€": "EUR", "¥": "JPY"}
_RANGE = re.compile(r"(?<![\w.,])(\d{4})\s*[-–/]\s*(\d{2}|\d{4})(?![\w]|[.,]\d)")
_NUM = re.compile(
    r"(?P<cur>[£$€¥])?\s?(?<![\w])(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion|bn|mn|tn|m|k)\b)?"
    r"(?P<pct>\s?%|\s?per\s?cent|\s?percent)?", re.IGNORECASE)
_WORD_NUM = re.compile(r"\b(" + "|".join(_WORDS) + r")\b(?:\s+(thousand|million|billion))?", re.IGNORECASE)
NEGATIONS = frozenset({"not", "n't", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without",
                       "cannot"})
# A claim counting "people" says less than the source's "citizens" or "residents": it may count
# any of them. The source's "people" does not license the claim's "lives" or "deaths" (issue 10).
_GENERIC = frozenset({"people", "person", "individual", "other"})
_GLUED = re.compile(r"[a-z]{2}[A-Z]|[a-z]\.[a-z]{2}|[a-z]{2}[A-Z][a-z]")
# "... to seal St." is "St Johnstone" cut off by the one-sentence grammar, not a sentence end.
_ABBREVIATION_END = re.compile(r"\b(St|Mr|Mrs|Ms|Dr|Gen|Lt|Col|Capt|Sgt|Rev|Prof|Mt|No|Jr|Sr|Inc|Co|vs)\.$")
_ROLE_DEPS = {"compound", "amod"}
# A claim of cause ("due to", "which led to") must be made by the source sentences the claim
# paraphrases: the 1.5B model adds causes that no one stated ("the haircut led to Brazil winning").
_CAUSAL = re.compile(r"\b(because|due to|owing to|as a result|result(?:s|ed|ing)? in|lead(?:s|ing)? to|led to|"
                     r"caus(?:e|es|ed|ing)|thanks to|prompt(?:s|ed|ing)?|in response to|forc(?:e|es|ed|ing))\b",
                     re.IGNORECASE)
# What states a cause in the source: the same words, or the news' causal "after" / "following" /
# "amid" ("died after being hit"). Not "over" or "so": too often a score or a degree.
_CAUSAL_SOURCE = re.compile(r"\b(because|due to|owing to|as a result|result(?:s|ed|ing)? in|lead(?:s|ing)? to|led to|"
                            r"caus(?:e|es|ed|ing)|thanks to|prompt(?:s|ed|ing)?|in response to|forc(?:e|es|ed|ing)|"
                            r"after|following|amid|therefore|reasons?|blamed?|triggered|sparked|meant)\b",
                            re.IGNORECASE)
# Verbs whose doer is checked (who did what): one key per meaning, so "Warrington won" is compared
# with "Widnes beat Warrington". Reporting and light verbs are left out: their subjects vary freely.
_SAME_DEED = {"beat": "win", "defeat": "win", "overcome": "win", "thrash": "win", "edge": "win", "murder": "kill",
              "shoot": "kill", "stab": "kill", "detain": "arrest", "probe": "investigate", "name": "appoint",
              "hire": "appoint", "sack": "dismiss", "fire": "dismiss", "remove": "dismiss", "oust": "dismiss"}
_LIGHT_VERBS = frozenset("""say tell add be have do make get go come take give see know think believe describe
call ask use include become remain seem feel put let begin start continue find show""".split())
_CONTENT = frozenset({"NOUN", "PROPN", "VERB", "NUM", "ADJ", "ADV"})
# "The article discusses ...": a sentence about the text, not the news (unless the news is a text).
_META = frozenset({"article", "text", "story", "report", "piece", "passage"})
ALIGNED_SENTENCES = 2  # the source sentences a claim is taken to paraphrase (most content words shared)
# Parts of speech and words a complete phrase does not end with (a determiner, a preposition, a
# conjunction, "to"): what a sentence cut at the grammar's word cap ends with.
_DANGLING = frozenset({"DET", "ADP", "CCONJ", "SCONJ"})
_DANGLING_WORDS = frozenset({"to", "the", "a", "an", "of", "and", "or", "but", "that", "which", "who", "whose",
                             "his", "her", "their", "its", "our", "my", "your", "will", "would", "should", "could",
                             "can", "may", "must", "is", "are", "was", "were", "be", "been", "has", "have", "had"})


@dataclass(frozen=True)
class Quantity:
    value: float
    tolerance: float  # half the last unit the text states: "1.3 million" is 1.3M ± 0.05M
    kind: str  # "count", "percent", "money:GBP", "year", "range"
    noun: str | None  # lemma of what it counts ("lives", "people"), when a noun follows
    text: str

    def matches(self, other: "Quantity") -> bool:
        if self.kind == "year":
            return other.kind in ("year", "range") and (other.value == self.value or
                                                        other.kind == "range" and _in_range(self, other))
        if self.kind == "range":
            return other.kind == "range" and other.text.replace(" ", "") == self.text.replace(" ", "")
        if other.kind in ("year", "range"):
            return other.kind == "year" and self.kind == "count" and self.value == other.value
        if self.kind.startswith("money") and other.kind.startswith("money") and self.kind != other.kind:
            return False
        if (self.kind == "percent") != (other.kind == "percent"):
            return False
        return abs(self.value - other.value) <= self.tolerance + 1e-9


def _in_range(year: Quantity, rng: Quantity) -> bool:
    a, b = rng.text.replace("–", "-").replace("/", "-").split("-")
    start = int(a)
    end = int(b) if len(b) == 4 else int(a[:2] + b)
    return start <= year.value <= end


def _noun_after(doc: Doc | None, end_char: int) -> str | None:
    """The lemma of the noun a number counts: the first noun within three tokens after it."""
    if doc is None:
        return None
    toks = [t for t in doc if t.idx >= end_char][:4]
    for tok in toks:
        if tok.pos_ in ("NOUN", "PROPN"):
            return tok.lemma_.lower()
        if tok.pos_ in ("VERB", "AUX", "PUNCT", "ADP", "CCONJ", "SCONJ", "PRON", "DET"):
            return None
    return None


def quantities(text: str, doc: Doc | None = None) -> list[Quantity]:
    """Every quantity in ``text``; ``doc`` (spaCy parse of the same text) names what each counts."""
    out: list[Quantity] = []
    masked = list(text)
    for m in _RANGE.finditer(text):
        out.append(Quantity(float(m.group(1)), 0.0, "range", None, m.group(0)))
        masked[m.start():m.end()] = " " * (m.end() - m.start())
    body = "".join(masked)
    for m in _NUM.finditer(body):
        whole = m.group("int").replace(",", "")
        dec = m.group("dec") or ""
        scale_word = (m.group("scale") or "").lower()
        scale = _SCALES.get(scale_word, 1.0)
        value = float(f"{whole}.{dec}" if dec else whole) * scale
        unit = (10 ** -len(dec)) * scale
        # An exact figure ("1,084,604", "23") matches only itself; a rounded one its rounding range.
        tolerance = 0.0 if unit <= 1 and scale == 1.0 else unit / 2
        if m.group("pct"):
            kind = "percent"
        elif m.group("cur"):
            kind = f"money:{_CURRENCY[m.group('cur')]}"
        elif not dec and not scale_word and len(whole) == 4 and 1800 <= int(whole) <= 2100:
            kind = "year"
        else:
            kind = "count"
        out.append(Quantity(value, tolerance, kind, _noun_after(doc, m.end()), m.group(0).strip()))
    for m in _WORD_NUM.finditer(body):
        value = float(_WORDS[m.group(1).lower()]) * _SCALES.get((m.group(2) or "").lower(), 1.0)
        out.append(Quantity(value, 0.0, "count", _noun_after(doc, m.end()), m.group(0)))
    return out


def _polarities(doc: Doc | Any) -> set[tuple[str, bool]]:
    """(verb lemma, negated) for every verb: "did not resign" -> ("resign", True)."""
    out = set()
    for tok in doc:
        if tok.pos_ in ("VERB", "AUX") and tok.dep_ not in ("aux", "auxpass"):
            negated = any(c.dep_ == "neg" or c.lower_ in NEGATIONS for c in tok.children)
            out.add((tok.lemma_.lower(), negated))
    return out


def _triples(doc: Doc) -> set[tuple[str, str, str]]:
    """(subject, verb lemma, object) where subject and object are both named."""
    out: set[tuple[str, str, str]] = set()
    for tok in doc:
        if tok.pos_ != "VERB":
            continue
        subj = [c for c in tok.children if c.dep_ in ("nsubj", "agent")]
        obj = [c for c in tok.children if c.dep_ in ("dobj", "pobj", "attr")]
        for s in subj:
            for o in obj:
                if s.ent_type_ and o.ent_type_:
                    out.add((norm(s.text), tok.lemma_.lower(), norm(o.text)))
    return out


def _roles(doc: Doc) -> list[str]:
    """Role phrases given with 'as': 'joins as assistant coach' -> 'assistant coach'."""
    out = []
    for tok in doc:
        if tok.lower_ != "as" or tok.dep_ != "prep":
            continue
        for obj in (c for c in tok.children if c.dep_ == "pobj" and c.pos_ == "NOUN"):
            mods = [c for c in obj.children if c.dep_ in _ROLE_DEPS and c.i < obj.i]
            if mods:
                first = min(m.i for m in mods)
                out.append(doc[first:obj.i + 1].text)
    return out


def _two_words(word: str, words: str) -> bool:
    """``word`` is two words of the source run together ("ofhim", "thismoment"), not one of its own."""
    if " " in word or len(word) < 5 or f" {word} " in words:
        return False
    return any(f" {word[:i]} " in words and f" {word[i:]} " in words for i in range(2, len(word) - 1))


def _content(doc: Doc | Any) -> set[str]:
    return {t.lemma_.lower() for t in doc if t.pos_ in _CONTENT and not t.is_stop}


def _deed(verb: Token) -> str:
    lemma = verb.lemma_.lower()
    return _SAME_DEED.get(lemma, lemma)


def _doer(verb: Token) -> Token | None:
    """Who does what the verb says: the subject of an active verb, the "by" agent of a passive one."""
    for c in verb.children:
        if c.dep_ == "nsubj":
            return c
        if c.dep_ == "agent":
            return next((g for g in c.children if g.dep_ == "pobj"), None)
    # "Brazil went on to win it", "Widnes scored and won": the subject of the verb it depends on.
    if verb.dep_ in ("xcomp", "conj", "advcl") and verb.head is not verb and verb.head.pos_ in ("VERB", "AUX"):
        return _doer(verb.head)
    return None


def _doer_words(tok: Token) -> set[str]:
    """The doer's name and noun words, with its appositions and conjuncts ("The Crown Office (COPFS)")."""
    return {norm(t.text) for t in tok.subtree if t.pos_ in ("PROPN", "NOUN") and norm(t.text)}


def _same_doer(a: set[str], b: set[str]) -> bool:
    """A shared word, or one side the initials of the other ("EU" and "European Union")."""
    def initials(words: set[str]) -> set[str]:
        return {"".join(sorted(w[0] for w in words)), "".join(w[0] for w in sorted(words))}
    return bool(a & b) or any("".join(sorted(w)) in initials(b) for w in a if len(w) >= 2) \
        or any("".join(sorted(w)) in initials(a) for w in b if len(w) >= 2)


def deeds(doc: Doc | Any) -> list[tuple[str, set[str] | None]]:
    """(deed, doer words) per content verb; doer None when it cannot be told (a pronoun, a common noun
    that may stand for a name, a relative clause, no subject): such an occurrence never contradicts."""
    out: list[tuple[str, set[str] | None]] = []
    for tok in doc:
        if tok.pos_ != "VERB" or tok.lemma_.lower() in _LIGHT_VERBS:
            continue
        doer = _doer(tok)
        # spaCy's small model tags a sentence-initial name as a noun ("Widnes beat ..."): title case there counts.
        known = doer is not None and (doer.pos_ == "PROPN" or doer.ent_type_ in ("PERSON", "ORG", "GPE", "NORP")
                                      or doer.is_sent_start and doer.is_title)
        out.append((_deed(tok), _doer_words(doer) if known and doer is not None else None))
    return out


@dataclass
class Source:
    """What claims are checked against, computed once: an article, or one evidence sentence."""

    text: str
    words: str  # padded normalised text
    sents: list[Doc]
    quantities: list[Quantity]
    triples: set[tuple[str, str, str]]
    polarities: set[tuple[str, bool]]
    extra: dict[str, Any] = field(default_factory=dict)


class ClaimChecker:
    def __init__(self, nlp: Language, closest: Callable[[str, Source], int] | None = None,
                 min_coverage: float = 0.0) -> None:
        self.nlp = nlp
        self._closest = closest  # index of the source sentence closest in meaning (MiniLM); lexical if None
        # The share of the claim's content words that the source sentences it paraphrases must hold
        # (0 = not checked); chosen by cross-validation on the hand labels (docs/eval.md).
        self.min_coverage = min_coverage

    def source(self, text: str, parsed: Doc | None = None) -> Source:
        doc = parsed if parsed is not None else self.nlp(text)
        sents = [s.as_doc() for s in doc.sents if s.text.strip()]
        return Source(text, padded(text), sents, quantities(text, doc), _triples(doc), _polarities(doc))

    def closest(self, sentence: str, src: Source) -> int:
        if self._closest is not None:
            return self._closest(sentence, src)
        words = set(norm(sentence).split())
        scores = [len(words & set(norm(s.text).split())) for s in src.sents]
        return max(range(len(scores)), key=scores.__getitem__) if scores else -1

    def aligned(self, doc: Doc, src: Source, k: int = ALIGNED_SENTENCES) -> list[Doc]:
        """The ``k`` source sentences sharing the most content words with the claim, in source order."""
        if "content" not in src.extra:
            src.extra["content"] = [_content(s) for s in src.sents]
        mine = _content(doc)
        scores = [len(mine & c) for c in src.extra["content"]]
        best = sorted(range(len(scores)), key=lambda i: -scores[i])[:k]
        return [src.sents[i] for i in sorted(best)]

    def coverage(self, doc: Doc, src: Source) -> float:
        """Share of the claim's content words (lemmas; not names) found in the source sentences it paraphrases.

        A word counts as found when a source word is the same lemma or starts with it, or the reverse
        ("warn" / "warning", "strengthen" / "strength"): a paraphrase changes the part of speech.
        """
        mine = {t.lemma_.lower() for t in doc if t.pos_ in _CONTENT and t.pos_ != "PROPN" and not t.is_stop
                and not t.ent_type_}  # names and figures have checks of their own
        if not mine:
            return 1.0
        window = set().union(*(_content(s) for s in self.aligned(doc, src)))
        found = [w for w in mine if w in window or len(w) >= 4 and any(
            len(s) >= 4 and (s.startswith(w) or w.startswith(s)) for s in window)]
        return len(found) / len(mine)

    def check(self, sentence: str, src: Source, min_coverage: float | None = None) -> str | None:
        """Why the sentence is not supported by the source, or None when every rule check passes.

        ``min_coverage`` overrides the checker's own (a condensed position is held to its evidence sentence).
        """
        cut = _ABBREVIATION_END.search(sentence.strip())
        if cut:
            return f"it stops at the abbreviation {cut.group(1)!r}: the sentence is cut short"
        doc = self.nlp(sentence)
        for check in (self._cut, self._sentence, self._names, self._quantities, self._roles, self._who, self._doers,
                      self._cause, self._negation):
            reason = check(sentence, doc, src)
            if reason:
                return reason
        return self._covered(doc, src, self.min_coverage if min_coverage is None else min_coverage)

    def _cut(self, sentence: str, doc: Doc, src: Source) -> str | None:
        """A sentence that ends on a word no phrase ends with ("warns against.") was cut by a length cap."""
        words = [t for t in doc if not t.is_punct]
        last = words[-1] if words else None
        if last is not None and last.dep_ != "prt" and (last.pos_ in _DANGLING or last.text in _DANGLING_WORDS):
            return f"it stops at {last.text!r}: the sentence is cut short"
        return None

    def _sentence(self, sentence: str, doc: Doc, src: Source) -> str | None:
        """A statement about the news: a main verb, and not a description of the article itself."""
        root = next((t for t in doc if t.dep_ == "ROOT"), None)
        if root is not None and root.pos_ not in ("VERB", "AUX") and not _verb_read_as_noun(self.nlp, doc):
            return "it has no main verb: a heading, not a sentence"
        subject = next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")), None) if root else None
        if subject is not None and subject.lower_ in _META and f" {subject.lower_} " not in src.words:
            return f"it describes the {subject.lower_}, not what happened"
        return None

    def _names(self, sentence: str, doc: Doc, src: Source) -> str | None:
        for word in sentence.split():
            # Words glued together ("MinisterGenPrayuth", "Th.at", "ofhim", "_linking-up-with") are
            # decoding debris, not English: what a model writes when a grammar's word cap stops it.
            bare = word.strip(".,;:!?'\"()")
            if (_GLUED.search(bare) or "_" in bare or _two_words(norm(bare), src.words)) \
                    and f" {norm(bare)} " not in src.words:
                return f"{bare!r} is not a word"
        for ent in doc.ents:
            if ent.label_ in _ENTITY_LABELS and not name_grounded(ent.text, src.words):
                return f"{ent.text!r} is not in the source"
        for tok in doc:
            if tok.pos_ == "PROPN" and norm(tok.text) and f" {norm(tok.text)} " not in src.words:
                return f"{tok.text!r} is not in the source"
        return None

    def _quantities(self, sentence: str, doc: Doc, src: Source) -> str | None:
        for q in quantities(sentence, doc):
            same = [a for a in src.quantities if q.matches(a)]
            if not same:
                return f"the quantity {q.text!r} is not in the source"
            if q.noun and q.noun not in _GENERIC and not any(a.noun in (None, q.noun) for a in same):
                counted = sorted({a.noun for a in same if a.noun})
                return f"{q.text!r} counts {q.noun!r}, the source's {q.text!r} counts {', '.join(counted)}"
        return None

    def _roles(self, sentence: str, doc: Doc, src: Source) -> str | None:
        for role in _roles(doc):
            if f" {norm(role)} " not in src.words:
                return f"the role {role!r} is not in the source"
            # "joins Featherstone as assistant coach" where the source has only "the Scotland assistant
            # coach": a role the source always ties to another name is that name's role.
            owners = {m.group(1) for m in re.finditer(rf"\b([A-Z][\w'’-]+)\s+{re.escape(role)}\b", src.text)}
            bare = re.search(rf"(?<![A-Z][\w'’-])\s{re.escape(role)}\b|^{re.escape(role)}\b", src.text, re.IGNORECASE)
            if owners and not bare and not any(o in sentence for o in owners):
                return f"the source's {role!r} is the {' / '.join(sorted(owners))} {role}, not this one"
        return None

    def _who(self, sentence: str, doc: Doc, src: Source) -> str | None:
        for s, v, o in _triples(doc):
            if (o, v, s) in src.triples and (s, v, o) not in src.triples:
                return f"the source says {o} {v} {s}, not the other way round"
        return None

    def _doers(self, sentence: str, doc: Doc, src: Source) -> str | None:
        """A named doer the source never gives that deed to: "Warrington won" where only "Widnes won"."""
        if "deeds" not in src.extra:
            src.extra["deeds"] = [d for s in src.sents for d in deeds(s)]
        for deed, doer in deeds(doc):
            if not doer:
                continue
            theirs = [d for v, d in src.extra["deeds"] if v == deed]
            if theirs and all(d is not None for d in theirs) and not any(_same_doer(doer, d) for d in theirs if d):
                who = " / ".join(sorted({" ".join(sorted(d)) for d in theirs if d}))
                return f"the source gives {deed!r} to {who}, not to {' '.join(sorted(doer))}"
        return None

    def _cause(self, sentence: str, doc: Doc, src: Source) -> str | None:
        """A cause ("due to", "led to") the sentences it paraphrases do not state."""
        claimed = [m.group(0) for m in _CAUSAL.finditer(sentence)]
        if not claimed:
            return None
        window = " ".join(s.text for s in self.aligned(doc, src)).lower()
        for cause in claimed:  # one the window states in the same words is not a new claim ...
            if re.search(rf"\b{re.escape(cause.lower())}\b", window):
                continue
            # ... nor one where the window states some cause the sentence did not copy
            theirs = {m.group(0).lower() for m in _CAUSAL_SOURCE.finditer(window)} - {c.lower() for c in claimed}
            if not theirs:
                return f"{cause!r} states a cause the source sentences do not"
        return None

    def _covered(self, doc: Doc, src: Source, minimum: float) -> str | None:
        """Facts gathered from all over the article into one claim: most words must come from 2 sentences."""
        if minimum <= 0:
            return None
        share = self.coverage(doc, src)
        if share < minimum:
            return (f"only {share:.0%} of its content words are in the source sentences it paraphrases "
                    f"(at least {minimum:.0%} needed)")
        return None

    def _negation(self, sentence: str, doc: Doc, src: Source) -> str | None:
        """A verb the source uses only with the other polarity ("resigned" where it says "did not resign")."""
        for verb, negated in _polarities(doc):
            used = {n for v, n in src.polarities if v == verb}
            if used and negated not in used:
                said = "negated" if negated else "not negated"
                return f"{verb!r} is {said} here, unlike everywhere in the source"
        return None



def _verb_read_as_noun(nlp: Language, doc: Doc) -> bool:
    """Whether a word the tagger read as part of a noun run is a verb once it has a plain subject.

    The small tagger reads a past tense after a long noun run as one more noun ("A new malaria
    vaccine cut infections by half ...": "cut" NN, a compound of "infections"), and the claim
    then looks like a heading. The word right after that root is tried in "They <word> it.", where only a
    verb fits.
    """
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None or len(doc) < 6 or root.i + 1 >= len(doc):
        return False
    word = doc[root.i + 1]  # the verb comes right after its subject, the noun run the tagger took for the root
    return (word.pos_ == "NOUN" and word.dep_ == "compound" and word.text.isalpha()
            and nlp(f"They {word.text} it.")[1].pos_ == "VERB")
