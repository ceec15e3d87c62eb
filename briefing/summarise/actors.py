"""Key actors and their positions, from attribution in the text.

Real NLP, not keyword lists: spaCy's named entities tell who is named, the
dependency parse tells who is the subject of a reporting verb ("X said / warned /
alleged / rejected / called on / vowed ...") and what that verb governs, which
becomes the actor's one-line position; the sentence is the evidence.

Mentions of one actor are merged: surnames ("Putin" -> "Vladimir Putin"),
acronyms defined in the text ("European Union (EU)"), titles seen before a
name ("the Russian President" -> "Russian President Vladimir Putin"), the head
noun of an organisation ("the Commission" -> "European Commission"), and a
he/she subject refers to the last person named before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from briefing.models import Actor

REPORTING_VERBS = frozenset("""
accuse acknowledge add admit advise agree allege announce appeal argue ask assert back believe blame call
caution charge claim comment complain concede condemn confirm contend criticise criticize decide declare
defend demand deny describe dismiss emphasise emphasize estimate explain express fear hail highlight hope
impose indicate insist instruct issue maintain note object oppose order plan pledge praise predict promise
propose protest question recommend refuse reiterate reject remark repeat reply report request say seek
signal state stress suggest support tell threaten urge vow want warn welcome write
""".split())
# Verbs that only attribute a position when they carry an object or clause.
_NEEDS_OBJECT = frozenset({"issue", "express", "call", "seek", "support", "oppose", "back", "want", "plan"})
_ACTOR_LABELS = {"PERSON": "person", "ORG": "organisation", "GPE": "country or government", "NORP": "group"}
_PRONOUNS = {"he", "she"}
_TITLE_WORDS = re.compile(r"^(president|prime|minister|foreign|secretary|chancellor|king|queen|senator|"
                          r"governor|mayor|chief|general|spokes\w+|ambassador|commissioner|leader|head|"
                          r"director|ceo|chairman|chairwoman|chair|judge|sen|rep|dr|mr|mrs|ms|gen|"
                          r"[A-Z][a-z]+n|[a-z]+ian|[a-z]+ese|[a-z]+ish|deputy|vice|defence|defense|"
                          r"interior|finance|health|justice|state|attorney|party|opposition|former)$",
                          re.IGNORECASE)
MAX_POSITION_WORDS = 22


@dataclass
class _Cluster:
    label: str
    names: list[str] = field(default_factory=list)
    aliases: set[str] = field(default_factory=set)  # lower-cased keys that refer to this actor
    title: str = ""
    mentions: int = 0
    statements: list[tuple[int, str, str]] = field(default_factory=list)  # (strength, position, evidence)

    @property
    def name(self) -> str:
        return max(self.names, key=lambda n: (len(n.split()), len(n)))


def _norm(text: str) -> str:
    text = re.sub(r"^(the|a|an)\s+", "", text.strip(), flags=re.IGNORECASE)
    text = re.sub(r"'s$", "", text)
    return " ".join(text.casefold().split())


def _person_title(ent: Span) -> str:
    """Title words written just before a person's name: 'Russian Foreign Minister' Sergei Lavrov."""
    words: list[str] = []
    i = ent.start - 1
    while i >= 0 and len(words) < 4:
        tok = ent.doc[i]
        if tok.is_punct or tok.lower_ in ("the", "a", "an") or not _TITLE_WORDS.match(tok.text):
            break
        words.insert(0, tok.text)
        i -= 1
    return " ".join(words)


class _Index:
    """Resolves a mention (entity or noun phrase) to one actor cluster."""

    def __init__(self) -> None:
        self.clusters: list[_Cluster] = []

    def _find(self, key: str, label: str | None = None) -> _Cluster | None:
        for c in self.clusters:
            if key in c.aliases and (label is None or c.label == label or label == "ANY"):
                return c
        return None

    def add_entity(self, ent: Span) -> _Cluster:
        text = ent.text.strip()
        if text.endswith("'s"):
            text = text[:-2]
        text = re.sub(r"^(the|The)\s+", "", text)
        key = _norm(text)
        label = ent.label_
        parts = key.split()
        cluster = self._find(key)
        if cluster is None and label == "PERSON" and parts:
            # Surname-tolerant: "Putin" and "Vladimir Putin" are one person.
            cluster = next((c for c in self.clusters if c.label == "PERSON" and
                            (parts[-1] in c.aliases or any(a.split()[-1] == parts[-1] for a in c.aliases))), None)
        if cluster is None and label == "ORG" and len(parts) == 1:
            # "Commission" -> "European Commission": the head noun of a known organisation.
            cluster = next((c for c in self.clusters if c.label == "ORG" and
                            any(len(a.split()) > 1 and a.split()[-1] == parts[0] for a in c.aliases)), None)
        if cluster is None:
            cluster = _Cluster(label=label)
            self.clusters.append(cluster)
        cluster.names.append(text)
        cluster.aliases.update({key, parts[-1]} if label == "PERSON" and parts else {key})
        cluster.mentions += 1
        if label == "PERSON":
            title = _person_title(ent)
            if title and len(title) > len(cluster.title):
                cluster.title = title
            if title:
                cluster.aliases.add(_norm(title))
        self._acronym(ent, cluster)
        return cluster

    def _acronym(self, ent: Span, cluster: _Cluster) -> None:
        """'European Union (EU)': the bracketed acronym names the same actor."""
        doc = ent.doc
        if ent.end + 2 < len(doc) and doc[ent.end].text == "(" and doc[ent.end + 2].text == ")":
            acro = doc[ent.end + 1].text
            initials = "".join(w[0] for w in ent.text.split() if w[:1].isupper())
            if acro.isupper() and acro == initials:
                cluster.aliases.add(acro.casefold())

    def resolve_phrase(self, phrase: str) -> _Cluster | None:
        key = _norm(phrase)
        if not key:
            return None
        found = self._find(key)
        if found:
            return found
        # "the Russian President" / "Russia President" -> a person with that title.
        words = key.split()
        for c in self.clusters:
            if c.title and _title_match(words, _norm(c.title).split()):
                return c
        return None


def _title_match(words: list[str], title: list[str]) -> bool:
    if len(words) != len(title) or len(words) < 2:
        return False
    return all(a == b or a.startswith(b) or b.startswith(a) for a, b in zip(words, title))


def _present(tok: Token) -> str:
    """'said' -> 'says', 'has alleged' -> 'alleges': positions read as current stances."""
    lemma = tok.lemma_.lower()
    if tok.tag_ not in ("VBD", "VBN", "VBZ", "VBP"):
        return tok.text
    if lemma == "be":
        return "is"
    if lemma == "have":
        return "has"
    if re.search(r"(s|sh|ch|x|z|o)$", lemma):
        return lemma + "es"
    if re.search(r"[^aeiou]y$", lemma):
        return lemma[:-1] + "ies"
    return lemma + "s"


def _position(verb: Token, subject: Token) -> str:
    """The verb and what it governs, without the subject, auxiliaries or leading adverbs."""
    skip: set[int] = {t.i for t in subject.subtree}
    for child in verb.children:
        if child.dep_ in ("aux", "auxpass", "neg") and child.i < verb.i and child.dep_ != "neg":
            skip.add(child.i)
        if child.i < verb.i and child.dep_ in ("advmod", "advcl", "prep", "npadvmod", "punct", "cc", "mark", "nsubj"):
            skip.update(t.i for t in child.subtree)
        if child.dep_ == "conj" and child.i > verb.i and child.pos_ == "VERB" and child.lemma_ not in REPORTING_VERBS:
            skip.update(t.i for t in child.subtree)  # "... rejected X and decided Y": keep one act per line
        if child.dep_ == "cc" and child.i > verb.i:
            nxt = verb.doc[child.i + 1] if child.i + 1 < len(verb.doc) else None
            if nxt is not None and nxt.i in skip:
                skip.add(child.i)
    tokens = sorted((t for t in verb.subtree if t.i not in skip and t.i >= verb.i - 1), key=lambda t: t.i)
    words: list[str] = []
    for t in tokens:
        if t.i < verb.i and t.dep_ != "neg":
            continue
        word = _present(t) if t == verb or (t.dep_ == "conj" and t.head == verb and t.pos_ == "VERB") else t.text
        words.append(word + t.whitespace_)
    text = "".join(words).strip()
    text = re.sub(r"\s+([,.;:!?])", r"\1", text).strip(" ,;:-")
    text = re.sub(r"\"|(?<![A-Za-z])'|'(?![A-Za-z])", "", text)  # quote marks, not apostrophes
    text = re.sub(r",\s*$", "", text).rstrip(".")
    text = re.sub(r"^(\w+),\s+", r"\1: ", text)  # 'says, We don't want' -> 'says: We don't want'
    parts = text.split()
    if len(parts) > MAX_POSITION_WORDS:
        cut = " ".join(parts[:MAX_POSITION_WORDS])
        m = re.match(r"(.{25,}?)[,;:](?=\s)", cut)
        text = (m.group(1) if m else cut).rstrip(",;: ") + " …"
    return text


def _strength(verb: Token) -> int:
    """How clearly a verb states a position: a clause or quote beats an object beats a bare act."""
    deps = {c.dep_ for c in verb.children} | {g.dep_ for c in verb.children if c.dep_ == "conj" for g in c.children}
    score = 2 if deps & {"ccomp", "xcomp"} else 1 if deps & {"dobj", "prep", "dative"} else 0
    return score + (0 if verb.lemma_.lower() in _NEEDS_OBJECT else 1)


def _has_content(verb: Token) -> bool:
    deps = {c.dep_ for c in verb.children}
    return bool(deps & {"ccomp", "xcomp", "dobj", "prep", "dative", "attr", "oprd", "advcl"}) or any(
        c.dep_ == "punct" and c.text in "\"'" for c in verb.children)


def _subject(verb: Token) -> Token | None:
    # The subject nearest the verb: a dateline ("Moscow/Minsk: Putin said") parses as a second one.
    subj = max((c for c in verb.children if c.dep_ == "nsubj" and c.i < verb.i), key=lambda c: c.i, default=None)
    if subj is None and verb.dep_ == "conj":
        return _subject(verb.head)  # "X issued a warning and said ..." shares X
    return subj


def _subject_cluster(subj: Token, index: _Index, ent_at: dict[int, _Cluster],
                     last_person: _Cluster | None) -> _Cluster | None:
    if subj.lower_ in _PRONOUNS:
        return last_person
    if subj.i in ent_at:
        return ent_at[subj.i]
    for tok in subj.subtree:  # "Foreign Minister Sergei Lavrov and the spokesperson": first named part
        if tok.i in ent_at and tok.head == subj or tok.i in ent_at and tok == subj:
            return ent_at[tok.i]
    span = subj.doc[subj.left_edge.i: subj.i + 1]
    return index.resolve_phrase(span.text)


def find_actors(doc: Doc, max_actors: int = 6) -> list[Actor]:
    """Actors with at least one attributed position, most prominent first."""
    if max_actors <= 0:
        return []
    index = _Index()
    ent_at: dict[int, _Cluster] = {}
    for ent in doc.ents:
        if ent.label_ not in _ACTOR_LABELS or ent.label_ == "NORP":
            continue
        cluster = index.add_entity(ent)
        for tok in ent:
            ent_at[tok.i] = cluster
    last_person: _Cluster | None = None
    for sent in doc.sents:
        for tok in sent:
            if tok.i in ent_at and ent_at[tok.i].label == "PERSON":
                pass
            if tok.pos_ != "VERB" or tok.lemma_.lower() not in REPORTING_VERBS:
                continue
            if tok.lemma_.lower() in _NEEDS_OBJECT and not _has_content(tok):
                continue
            subj = _subject(tok)
            if subj is None or subj.dep_ == "nsubjpass":
                continue
            cluster = _subject_cluster(subj, index, ent_at, last_person)
            if cluster is None:
                continue
            position = _position(tok, subj)
            if len(position.split()) >= 3:
                cluster.statements.append((_strength(tok), position, sent.text.strip()))
        persons = [ent_at[t.i] for t in sent if t.i in ent_at and ent_at[t.i].label == "PERSON"]
        if persons:
            last_person = persons[-1]
    ranked = sorted((c for c in index.clusters if c.statements),
                    key=lambda c: (-(len(c.statements) * 2 + c.mentions), c.names and doc.text.find(c.names[0])))
    return [_actor(c) for c in ranked[:max_actors]]


def _actor(c: _Cluster) -> Actor:
    # The strongest statement; among equals the first, usually the story's lede for that actor.
    _, position, evidence = max(c.statements, key=lambda s: s[0])
    description = c.title or _ACTOR_LABELS.get(c.label, "")
    return Actor(name=c.name, description=description, position=position, evidence=evidence)
