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

import functools
import re
from collections import Counter
from dataclasses import dataclass, field

from spacy.tokens import Doc, Span, Token

from briefing.models import Actor

REPORTING_VERBS = frozenset("""
accuse acknowledge add admit advise agree allege announce appeal argue ask assert back believe blame call
caution charge claim comment complain concede condemn confirm contend criticise criticize decide declare
defend demand deny describe dismiss emphasise emphasize estimate explain express fear hail highlight hope
impose indicate insist instruct issue maintain note object oppose order plan pledge praise predict promise
propose protest question recommend refuse reiterate reject remark repeat reply request say seek
signal state stress suggest support tell threaten urge vow want warn welcome write
""".split())
# Verbs that only attribute a position when they carry an object or clause.
_NEEDS_OBJECT = frozenset({"issue", "express", "call", "seek", "support", "oppose", "back", "want", "plan"})
# Verbs that state a position only with a clause or a quote: "X added that ..." / "'...,' X
# told the court", not "Beck added an own goal" or "Garza asked his friend to the prom".
_NEEDS_CLAUSE = frozenset({"say", "add", "ask", "tell", "maintain", "concede", "claim", "note", "write", "explain", "reply", "comment",
                           "remark", "state", "indicate", "signal", "repeat"})
# Evidence longer than this is almost always a photo caption glued to a sentence (issue 9).
MAX_EVIDENCE_WORDS = 55
# Name words that make a name an organisation whatever the tagger said ("Arriva Trains Wales").
_ORG_WORDS = frozenset({"trains", "airways", "airlines", "news", "times", "post", "tribune", "herald", "ltd",
                        "inc", "plc", "llc", "corp", "group", "fc", "club", "police", "council", "party",
                        "university", "agency", "bank", "trust", "foundation", "association", "federation",
                        "union", "commission", "committee", "ministry", "department", "service", "services",
                        "office", "court", "society", "institute", "hospital", "school", "college", "league",
                        "zoo", "museum", "embassy", "consulate", "agency", "company", "firm", "charity", "network", "channel", "newspaper",
                        "broadcaster", "airline", "brand", "church", "centre", "center", "authority", "board",
                        "press", "show", "programme", "facebook", "twitter", "instagram", "magazine"})
_HONORIFICS = re.compile(r"^(?:mr|mrs|ms|miss|dr|prof|sir|dame|lord|lady)\.?\s+", re.IGNORECASE)
_ACTOR_LABELS = {"PERSON": "person", "ORG": "organisation"}
# spaCy's small model tags some organisations as places ("the opposition Green Alliance"); a
# place-tagged name whose last word is one of these is an organisation. Other places are not
# actors: "Liverpool said" is a club, "Russia said" a government, and the model cannot tell.
_ORG_HEADS = frozenset("""
alliance party council union club fc united association agency authority ministry department court bank
university college school hospital police force service commission committee league federation council
institute foundation trust group company corporation board government assembly parliament senate congress
""".split())
_PRONOUNS = {"he", "she"}
# Words of a title written before a name ("Russian Foreign Minister Sergei Lavrov"), matched on
# capitalised words only, lower-cased. A nationality ("Russian") counts when spaCy tags it NORP.
# (This was one case-insensitive regex whose "[A-Z][a-z]+n" matched any word ending in "n", so
# "when" and "between" became titles: issue 9.)
_TITLE_WORDS = frozenset("""
president prime minister foreign secretary chancellor king queen prince princess senator governor mayor
chief general spokesman spokeswoman spokesperson ambassador commissioner leader head director ceo chairman
chairwoman chair judge sen rep dr mr mrs ms gen deputy vice defence defense interior finance health justice
state attorney party opposition former council police inspector detective superintendent sergeant officer
captain coach manager striker midfielder defender goalkeeper professor sir dame lord lady mp prosecutor
lawyer solicitor barrister attorney inspector executive founder owner chairman spokesman gov lt sgt det insp
ch supt cllr col capt cpl pc msp mep mla boss
""".split())
MAX_POSITION_WORDS = 22
# A sentence opener glued mid-sentence after a lower-case word ("... volunteering scheme The plan
# was praised ..."): the Daily Mail's photo captions run into the story without a full stop.
_LOST_BOUNDARY = re.compile(r"\b[a-z]{2,} (?:The|He|She|It|They|His|Her|Its|Their|This|These) [a-z]")


@dataclass
class _Cluster:
    label: str
    names: list[str] = field(default_factory=list)
    aliases: set[str] = field(default_factory=set)  # lower-cased keys that refer to this actor
    title: str = ""
    mentions: int = 0
    surnames: set[str] = field(default_factory=set)
    votes: Counter[str] = field(default_factory=Counter)  # PERSON / ORG, a cue in the text counting 3
    first_at: int = 1 << 30  # character offset of the first mention
    first_named: bool = False  # some mention starts with a known first name
    # Speaks in the first person ("'I've got a young family,' Sweeney added"): a person, whatever
    # the tagger said of a bare surname (issue 9, dev sample).
    first_person: bool = False
    honorific: bool = False  # some mention has Mr, Mrs, Ms, Dr ... before it
    gender: str = ""  # "male" / "female" from a first name or an honorific; "" when unknown
    statements: list[tuple[int, str, str]] = field(default_factory=list)  # (strength, position, evidence)

    @property
    def is_person(self) -> bool:
        """Known to be a person, not only tagged as one: a first name, an honorific or a title
        ("Brexit", "Big Ben" and "Chester" are tagged PERSON by the small model)."""
        if self.first_person:
            return True
        label = self.votes.most_common(1)[0][0] if self.votes else self.label
        titled = any(w.lower().rstrip(".") in _TITLE_WORDS for w in self.title.split())  # not "French" alone
        return label == "PERSON" and bool(self.honorific or titled or self.first_named)

    @property
    def name(self) -> str:
        return max(self.names, key=lambda n: (len(n.split()), len(n)))


def _norm(text: str) -> str:
    text = re.sub(r"^(the|a|an)\s+", "", text.strip(), flags=re.IGNORECASE)
    text = _HONORIFICS.sub("", text)  # "Ms Prior" is "Linda Prior"
    text = re.sub(r"'s$", "", text)
    return " ".join(text.casefold().split())


def _is_title_word(tok: Token) -> bool:
    """A word of a title from a fixed list (either case: "spokesman Chris Williams"), or a
    capitalised nationality ("Russian")."""
    if tok.lower_.rstrip(".") in _TITLE_WORDS:
        return True
    return tok.text[:1].isupper() and tok.ent_type_ == "NORP"


def actor_label(ent: Span) -> str | None:
    """The actor type of an entity: PERSON, ORG, or None when it is not an actor.

    spaCy's small model often tags people as organisations and back ("Terra Lurie", "Arriva
    Trains Wales"); a word of the name that only organisations use, or a known first name at
    the start of a name of two or three words, overrides it.
    """
    words = [t.lower_ for t in ent]
    if ent.root.tag_ in ("NNPS", "NNS") and any(
            c.dep_ in ("amod", "det", "nummod", "quantmod", "predet") and c.i < ent.start and c.text.islower()
            and c.lower_ not in ("the", "a", "an") for c in ent.root.children):
        return None  # "Many young Pakistanis", "two Americans", "some Democrats": a group, not a name
    if ent.label_ == "GPE":
        return "ORG" if words[-1] in _ORG_HEADS else None
    if len(ent) == 1 and ent.start and ent.doc[ent.start - 1].lower_ == "the" and re.fullmatch(r"[A-Z][a-z]+s", ent.text) \
            and re.search(rf"\b[A-Z][a-z]+ {ent.text[:-1]}\b", ent.doc.text):
        return None  # "the Christies" after "Chris Christie": a family, not a person or organisation
    if ent.label_ == "PERSON" and len(ent) >= 4 and any(first_name_gender(t.text) for t in ent[2:-1]):
        return None  # "Nelson Rivera Adrian Paige": two people run together
    if ent.label_ not in ("PERSON", "ORG"):
        return None
    return type_cue(ent) or ent.label_


def type_cue(ent: Span) -> str | None:
    """PERSON or ORG when the text itself says which, whatever the tagger's label."""
    words = [t.lower_ for t in ent]
    acronym = any(t.text.isupper() and len(t.text) > 1 and t.text not in _HONOURS for t in ent)
    if any(w in _ORG_WORDS for w in words) or acronym:
        return "ORG"
    if ent.doc.text[max(0, ent.start_char - 7):ent.start_char].endswith("-based ") or _appositive_is_org(ent):
        return "ORG"  # "Manhattan-based Skin Laundry", "Roscosmos, the Russian Federal Space Agency"
    if 2 <= len(ent) <= 3 and first_name_gender(ent[0].text) is not None:
        return "PERSON"
    if ent.label_ == "ORG" and 2 <= len(ent) <= 3 and ent.start and ent.doc[ent.start - 1].lower_ in _ROLE_WORDS:
        return "PERSON"  # "Tata Steel's UK boss Bimlendra Jha"
    if ent.label_ == "ORG":
        # "O'Donnell wrote on her blog that she ...": an "organisation" that is a she or he.
        rest = [t for t in ent.sent if t.i >= ent.end]
        if any(t.lower_ in ("she", "her", "he", "his") for t in rest) and not any(
                t.ent_type_ in ("PERSON", "ORG") for t in rest):
            return "PERSON"
    return None


_KIN = frozenset("""father mother dad mum mom wife husband son daughter brother sister uncle aunt grandfather
grandmother grandson granddaughter nephew niece cousin partner widow widower parents""".split())
# Role nouns written right before a person's name.
_ROLE_WORDS = frozenset("""boss chief executive manager coach director chairman chairwoman spokesman spokeswoman
spokesperson founder owner president secretary minister leader captain striker midfielder defender
goalkeeper professor lawyer attorney prosecutor judge officer""".split())
_HONOURS = frozenset({"OBE", "MBE", "CBE", "KBE", "DBE", "QC", "KC", "MP", "MSP", "MEP", "AM", "MLA", "JP", "PhD"})


def _appositive_is_org(ent: Span) -> bool:
    for child in ent.root.children:
        if child.dep_ == "appos" and child.i >= ent.end and child.lower_ in _ORG_WORDS | _ORG_HEADS:
            return True
    return False


def first_name_gender(word: str) -> str | None:
    """'male' or 'female' for a common first name, None for any other word (gender-guesser's
    list; None everywhere when it is not installed)."""
    detector = _name_detector()
    if detector is None or not word[:1].isupper():
        return None
    # "andy" (used by both) is not evidence enough: "London" and "Sun" are in the list as such.
    return {"male": "male", "mostly_male": "male", "female": "female",
            "mostly_female": "female"}.get(detector.get_gender(word))


@functools.lru_cache(maxsize=1)
def _name_detector():  # type: ignore[no-untyped-def]
    try:
        import gender_guesser.detector as gender
    except ImportError:
        return None
    return gender.Detector(case_sensitive=False)


def _gender(ent: Span, parts: list[str]) -> str:
    before = ent.doc[ent.start - 1].lower_.rstrip(".") if ent.start else ""
    first = ent[0].lower_.rstrip(".")
    for word in (first, before):
        if word in ("mr", "sir", "lord"):
            return "male"
        if word in ("mrs", "ms", "miss", "dame", "lady"):
            return "female"
    # Also for one word: a "she" is never "James", whether it is his first name or surname.
    return first_name_gender(ent[0].text) or ""


_NOBODY = _Cluster(label="NOBODY")  # a person named in this sentence who is not its subject


def _full_name(ent: Span) -> Span:
    """'Rhodri Giggs' where the model tagged only 'Giggs': a capitalised first name joined to it."""
    start = ent.start
    while (ent.label_ in ("PERSON", "ORG") and start > 0 and ent.doc[start - 1].pos_ == "PROPN"
           and ent.doc[start - 1].dep_ == "compound" and ent.doc[start - 1].head.i in range(ent.start, ent.end)
           and not ent.doc[start - 1].ent_type_
           and (ent.label_ == "ORG" or first_name_gender(ent.doc[start - 1].text) is not None)
           and not (ent.label_ == "PERSON" and _is_title_word(ent.doc[start - 1]))):
        start -= 1
    end = ent.end
    while (ent.label_ == "PERSON" and end < len(ent.doc) and ent.doc[end].pos_ == "PROPN" and ent.doc[end].is_title
           and not ent.doc[end].ent_type_ and ent.doc[end - 1].dep_ == "compound" and ent.doc[end - 1].head.i == end):
        end += 1  # "Nuno Espirito" + "Santo": the tagger stopped before the word the name's parse ends in
    while end - start > 2 and ent.doc[end - 1].text in _HONOURS:
        end -= 1  # "Alan Tobias OBE"
    while ent.label_ == "PERSON" and end - start > 2 and (_is_title_word(ent.doc[start]) or ent.doc[start].is_punct):
        start += 1
    if (ent.label_ == "PERSON" and end - start > 2 and first_name_gender(ent.doc[start].text) is None
            and first_name_gender(ent.doc[start + 1].text) is not None):
        start += 1  # "Commissioner for Wales Sarah Rochira": the place is not the name  # "Prosecutor Susan Hunt", "MP Michael Ellis": the title is not the name
    return ent if (start, end) == (ent.start, ent.end) else Span(ent.doc, start, end, label=ent.label_)


def _person_title(ent: Span) -> str:
    """Title words written just before a person's name: 'Russian Foreign Minister' Sergei Lavrov."""
    words: list[str] = []
    i = ent.start - 1
    while i >= 0 and len(words) < 4:
        tok = ent.doc[i]
        if tok.is_punct or tok.lower_ in ("the", "a", "an") or not _is_title_word(tok):
            break
        words.insert(0, tok.text)
        i -= 1
    return " ".join(words)


class _Index:
    """Resolves a mention (entity or noun phrase) to one actor cluster."""

    def __init__(self) -> None:
        self.clusters: list[_Cluster] = []
        # Where each surname is first written alone: a surname used before any full name with it
        # belongs to someone the tagger did not name in full, so it is given to nobody.
        self.first_bare: dict[str, int] = {}

    def _find(self, key: str, label: str | None = None) -> _Cluster | None:
        for c in self.clusters:
            if key in c.aliases and (label is None or c.label == label or label == "ANY"):
                return c
        return None

    def add_entity(self, ent: Span, label: str) -> _Cluster | None:
        """The actor this mention names; None for a bare surname that two people share."""
        text = ent.text.strip()
        if text.endswith("'s"):
            text = text[:-2]
        text = re.sub(r"^(the|The)\s+", "", text)
        key = _norm(text)
        parts = key.split()
        if not parts:
            return None
        if label == "ORG" and len(parts) == 1 and any(c.label == "PERSON" and parts[0] in c.surnames
                                                      for c in self.clusters):
            label = "PERSON"  # "Defoe" tagged as an organisation after "Jermain Defoe"
        cluster = self._find(key) if not (label == "PERSON" and len(parts) == 1) else next(
            (c for c in self.clusters if c.label == "ORG" and key in c.aliases), None)
        if cluster is None and label == "PERSON" and len(parts) > 1:
            # "Van Gaal" and "Louis van Gaal", "Del Potro" and "Juan Martin del Potro": one person
            # when exactly one person's name ends with (or is the end of) the other.
            same = [c for c in self.clusters if c.label == "PERSON" and any(
                _ends_with(a.split(), parts) or _ends_with(parts, a.split()) for a in c.aliases if len(a.split()) > 1)]
            cluster = same[0] if len(same) == 1 else None
        if cluster is None and label == "PERSON":
            # Surname-tolerant: "Putin" and "Vladimir Putin" are one person. Full names are added
            # first (find_actors), so a bare surname sees every person it may mean: two full
            # names are two people ("Rhodri Giggs", "Natasha Giggs"), and a surname they share is
            # nobody in particular, so its words go to neither of them (issue 9).
            same = [c for c in self.clusters if c.label == "PERSON" and parts[-1] in c.surnames]
            if len(parts) == 1 and ent.start and ent.doc[ent.start - 1].lower_ in ("sir", "dame"):
                # "Sir Michael" is Sir Michael Wilshaw: knights go by their first name.
                same = [c for c in self.clusters if c.label == "PERSON" and
                        any(len(n.split()) > 1 and _norm(n).split()[0] == parts[0] for n in c.names)]
            if len(parts) == 1 and len(same) > 1:
                return None
            if len(parts) == 1 and same and any(t.lower_ in _KIN for t in ent.doc[max(0, ent.start - 3):ent.start]):
                return None  # "Her father Mr Robertson": a relative of the Robertson named, not them
            if len(parts) == 1 and same and ent.start:
                before = ent.doc[ent.start - 1].lower_.rstrip(".")
                said_gender = "male" if before == "mr" else "female" if before in ("mrs", "ms", "miss") else ""
                if said_gender and same[0].gender and same[0].gender != said_gender:
                    return None  # "Her father Mr Robertson" is not "Summer Robertson"
            if len(parts) == 1 and not same and first_name_gender(text) is None:
                # "Mr Wang" after "Wang Dongming": a family name written first (Chinese, Korean,
                # Hungarian order), when neither word is a known first name.
                same = [c for c in self.clusters if c.label == "PERSON" and any(
                    len(n.split()) == 2 and _norm(n).split()[0] == parts[0]
                    and first_name_gender(n.split()[1]) is None for n in c.names)]
                if len(same) > 1:
                    return None
            if len(parts) == 1 and same:
                if min(same[0].first_at, self.first_bare.get(parts[0], 1 << 30)) < same[0].first_at:
                    return None  # "Freberg" before any full name: not necessarily the Freberg named later
                cluster = same[0]
        if cluster is None and label == "ORG" and len(parts) == 1 and text.isupper() and len(text) > 1:
            # "EPA" after "the U.S. Environmental Protection Agency": the initials of its name.
            same = [c for c in self.clusters if c.label == "ORG" and any(_initials(n) == text for n in c.names)]
            cluster = same[0] if len(same) == 1 else None
        if cluster is None and label == "ORG" and len(parts) == 1:
            # "Commission" -> "European Commission": the head noun of a known organisation.
            cluster = next((c for c in self.clusters if c.label == "ORG" and
                            any(len(a.split()) > 1 and a.split()[-1] == parts[0] for a in c.aliases)), None)
        if cluster is None:
            cluster = _Cluster(label=label)
            self.clusters.append(cluster)
        cluster.first_at = min(cluster.first_at, ent.start_char)
        cluster.names.append(text)
        cluster.votes[label] += 3 if type_cue(ent) else 1
        cluster.aliases.add(key)
        if label == "PERSON":
            cluster.surnames.add(parts[-1])
            cluster.gender = cluster.gender or _gender(ent, parts)
            cluster.first_named |= len(parts) > 1 and first_name_gender(ent[0].text) is not None
            cluster.honorific |= bool(ent.start) and ent.doc[ent.start - 1].lower_.rstrip(".") in (
                "mr", "mrs", "ms", "miss", "dr", "sir", "dame", "lord", "lady", "prof")
        cluster.mentions += 1
        if label == "PERSON":
            title = _person_title(ent)
            if title and len(title) > len(cluster.title):
                cluster.title = title
            if len(title.split()) > 1:
                # "the Foreign Minister" names one person; "the boss" or "the manager" may be any of
                # the bosses in the story (each club has one), so a one-word title is no alias.
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


def _initials(name: str) -> str:
    """'U.S. Environmental Protection Agency' -> 'EPA' (dotted acronyms and small words left out)."""
    return "".join(w[0] for w in name.split() if w[:1].isupper() and "." not in w)


def _ends_with(words: list[str], tail: list[str]) -> bool:
    return len(words) > len(tail) and words[-len(tail):] == tail


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
    # "Spahic will issue an apology" is "will issue an apology", not "issue an apology": the modal
    # is part of the meaning ("would vote against", "could resign").
    modal = next((c for c in verb.children if c.dep_ == "aux" and c.tag_ == "MD" and c.i < verb.i), None)
    words: list[str] = [modal.lower_ + " "] if modal is not None else []
    for t in tokens:
        if t.i < verb.i and t.dep_ != "neg":
            continue
        conj = t.dep_ == "conj" and t.head == verb and t.pos_ == "VERB" and not any(c.dep_ == "aux" for c in t.children)
        word = _present(t) if (t == verb and modal is None) or conj else t.text
        words.append(word + t.whitespace_)
    text = "".join(words).strip()
    text = re.sub(r"\s+([,.;:!?])", r"\1", text).strip(" ,;:-")
    text = re.sub(r"\"|(?<![A-Za-z])'|'(?![A-Za-z])", "", text)  # quote marks, not apostrophes
    text = re.sub(r",\s*$", "", text).rstrip(".")
    text = re.sub(r"^(\w+),\s+", r"\1: ", text)  # 'says, We don't want' -> 'says: We don't want'
    text = re.sub(r",\s+(?:the\s+)?[A-Z][^,]{0,50}\s(?:reported|reports|said|says)$", "", text)
    return _shorten(text)


def _shorten(text: str) -> str:
    text = re.sub(r"[\s,;:-]+(?:but|and|or|as|while|because)$", "", text)
    parts = text.split()
    if len(parts) > MAX_POSITION_WORDS:
        cut = " ".join(parts[:MAX_POSITION_WORDS])
        # At a clause break if that still says something ("says: When he was elected …" does not).
        m = re.match(r"(.{60,}?)[,;:](?=\s)", cut)
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


def _names_subject(tok: Token, subj: Token) -> bool:
    """Whether ``tok`` names the subject itself ("its leader, Sofia Lind"), not someone attached
    to it ("Gentile's lawyer", "a friend of Gentile")."""
    while tok != subj:
        if tok.dep_ in ("poss", "prep", "pobj", "relcl", "acl", "nmod", "conj"):
            return False
        if tok.dep_ == "compound" and tok.head == subj and subj.pos_ == "NOUN" and subj.lower_ not in _VOICES:
            return False  # "the NHS regulator said": the regulator, not the NHS
        if tok.dep_ == "compound" and tok.head.lower_ in _TITLE_WORDS - _VOICES and tok.head.lower_ != tok.lower_:
            return False  # "Dagenham & Redbridge manager John Still said": the manager, not the club
        tok = tok.head
    return True


# Common nouns through which an organisation speaks: "a Gwent Police spokesman said".
_VOICES = frozenset({"spokesman", "spokeswoman", "spokesperson", "statement", "source", "sources", "website",
                     "account", "spokespeople", "representative"})


def _subject_cluster(subj: Token, index: _Index, ent_at: dict[int, _Cluster],
                     recent: list[list[_Cluster]]) -> _Cluster | None:
    if subj.lower_ in _PRONOUNS:
        # "he said" is the one person named in this sentence or the one before; with two
        # people there, the speaker is a guess, and a wrong speaker is worse than none.
        gender = "male" if subj.lower_ == "he" else "female"
        named = [c for c in (recent[-1] or recent[0]) if c is _NOBODY or c.gender in ("", gender)]
        return named[0] if len(named) == 1 and named[0] is not _NOBODY and named[0].is_person else None
    if subj.i in ent_at:
        return ent_at[subj.i]
    for tok in subj.subtree:  # "Foreign Minister Sergei Lavrov and the spokesperson": first named part
        if tok.i in ent_at and _names_subject(tok, subj):
            return ent_at[tok.i]
    span = subj.doc[subj.left_edge.i: subj.i + 1]
    return index.resolve_phrase(span.text)


# Verbs that name a position only with a person or thing as object: "Police charged Gentile
# with ..." (without one, "Gentile charged with selling a firearm" is a passive headline).
_NEEDS_DIRECT_OBJECT = frozenset({"charge", "accuse", "blame", "order", "question", "sentence", "report"})
_STOP = frozenset("""a an the and or but of to in on at for by with from as that this it its is was be been are were
he she they we i you his her their our my me him them us so not no there here very just also would will could
should can may might has have had do does did""".split())


def _active_statement(verb: Token) -> bool:
    """An active, finite reporting verb whose subject is its agent (not "was charged", not a
    participle modifying a noun: "Gentile, charged with ...")."""
    if any(c.dep_ in ("auxpass", "nsubjpass", "neg") for c in verb.children):
        return False  # passive, or "has not commented": no position
    if verb.dep_ in ("acl", "relcl", "amod", "pcomp", "pobj", "csubj", "xcomp", "auxpass"):
        return False
    if verb.tag_ == "VBN" and not any(c.dep_ == "aux" and c.lemma_ == "have" for c in verb.children):
        return False
    if verb.tag_ == "VBG":
        return False
    if verb.lemma_.lower() == "hail" and any(c.dep_ == "prep" and c.lower_ == "from" for c in verb.children):
        return False  # "hails from California"
    if verb.lemma_.lower() in _NEEDS_DIRECT_OBJECT and not any(c.dep_ in ("dobj", "ccomp") for c in verb.children):
        return False
    return True


def _in_subject(tok: Token) -> bool:
    """Whether a name is (part of) a subject: 'Mr Hall warned', 'Its leader, Sofia Lind, argued'."""
    while tok.dep_ in ("compound", "appos", "flat", "conj") and tok.head != tok:
        tok = tok.head
    return tok.dep_ in ("nsubj", "nsubjpass", "ROOT")


def _inside_quote(verb: Token) -> bool:
    """An odd number of double quotes before the verb in its sentence: it is in someone's quote."""
    return verb.doc[verb.sent.start: verb.i].text.count('"') % 2 == 1


def _main_clause(verb: Token) -> bool:
    """The verb of the sentence, or joined to it: '... and said', '"...", he said'."""
    while verb.dep_ == "conj":
        verb = verb.head
    return verb.dep_ in ("ROOT", "parataxis")


def _quote_follows(verb: Token) -> bool:
    """'X said: "..."' parses with the quote as a sibling, not a clause of the verb."""
    nxt = verb.doc[verb.i + 1: verb.i + 4]
    return any(t.text == ":" for t in nxt)


def substantive(position: str) -> bool:
    """A position says something: three words or more, one of them a content word besides the
    verb, and not a cut-off "If you look back at ... …"."""
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", position)
    if position.endswith("…") and re.match(r"\w+:?\s+(?:if|when|while|although|though|because|as|since|after|"
                                           r"before|unless)\b", position, re.IGNORECASE):
        return False  # cut inside its opening subordinate clause: it says nothing yet
    return len(words) >= 3 and any(w.lower() not in _STOP for w in words[1:])


def _preceding_quote(verb: Token) -> str:
    """'"We will appeal," the club said': the clause before the verb is what was said."""
    clause = next((c for c in verb.children if c.dep_ == "ccomp" and c.i < verb.i), None)
    if clause is None:
        return ""
    subj = _subject(verb)
    end = subj.left_edge.i if subj is not None and subj.i < verb.i else verb.i
    text = verb.doc[min(verb.sent.start, clause.left_edge.i): end].text
    # '..., by stating: "He has ..."': only what is inside the last quotation.
    opening = list(re.finditer(r"(?:^|(?<=[\s:(]))['\"](?=[A-Z0-9(])", text))
    if opening and opening[-1].start() > 0:
        text = text[opening[-1].start():]
    # '"... security," national security expert': nothing after the closing quote.
    text = re.sub(r"[,.!?]['\"]\s+[^'\"]{1,50}$", "", text)
    text = re.sub(r"\"|(?<![A-Za-z])'|'(?![A-Za-z])", "", text).strip(" ,;:-")
    if not re.match(r"[A-Z0-9(]", text):
        return ""  # a fragment: the sentence began inside the quote
    # '..." problems," FTF vice-president': the quote ends at its last punctuation.
    text = re.sub(r",\s+[A-Z][\w-]*(?:\s+[\w-]+){0,2}$", "", text)
    return _shorten(text.rstrip(".,"))


def find_actors(doc: Doc, max_actors: int = 6) -> list[Actor]:
    """Named persons and organisations with a position stated as speaker or agent, most prominent first.

    An actor whose only statements are empty, passive or of uncertain speaker is left out:
    no actor is better than a wrong one (issue 9).
    """
    if max_actors <= 0:
        return []
    index = _Index()
    ent_at: dict[int, _Cluster] = {}
    ents = [(_full_name(ent), actor_label(ent)) for ent in doc.ents]
    # Full names before bare surnames, so that a surname is matched against every person it may mean.
    ents.sort(key=lambda e: len(e[0]) == 1)
    for ent, label in reversed(ents):
        if label == "PERSON" and len(ent) == 1:
            index.first_bare[_norm(ent.text).split()[-1] if _norm(ent.text) else ""] = ent.start_char
    for ent, label in ents:
        if label is None:
            continue
        cluster = index.add_entity(ent, label)
        if cluster is not None:
            for tok in ent:
                ent_at[tok.i] = cluster
    recent: list[list[_Cluster]] = [[], []]  # persons named in the previous sentence and this one
    for sent in doc.sents:
        recent = [recent[-1], []]
        # Over-long, or not ending like a sentence: a photo caption glued to the story (issue 9).
        long = (len(sent) > MAX_EVIDENCE_WORDS or not re.search(r"[.!?]['\"]?$", sent.text.strip())
                or _LOST_BOUNDARY.search(sent.text) is not None)
        for tok in sent:
            if tok.i in ent_at and ent_at[tok.i].label == "PERSON" and ent_at[tok.i] not in recent[-1]:
                recent[-1].append(ent_at[tok.i])
                if not _in_subject(tok) and _NOBODY not in recent[-1]:
                    # "In his letter to Scala, he ...": Scala is not "he", and with someone not
                    # named as a subject around, "he" may be that someone.
                    recent[-1].append(_NOBODY)
            if (tok.dep_ == "nsubj" and tok.pos_ == "PROPN" and tok.head.pos_ == "VERB" and _NOBODY not in recent[-1]
                    and (tok.i not in ent_at or ent_at[tok.i].label == "ORG" and ent_at[tok.i].votes["ORG"] < 3
                         and len(ent_at[tok.i].name.split()) == 1)):
                # "Mertesacker insisted Klopp ... He said": the subject the tagger missed (or took
                # for an organisation) may be the "he", so "he" is nobody in particular.
                recent[-1].append(_NOBODY)
            if long or tok.pos_ != "VERB" or tok.lemma_.lower() not in REPORTING_VERBS:
                continue
            lemma = tok.lemma_.lower()
            if lemma in _NEEDS_OBJECT and not _has_content(tok):
                continue
            if not _active_statement(tok):
                continue
            subj = _subject(tok)
            if subj is None:
                continue
            if not _main_clause(tok) and (subj.lower_ in _PRONOUNS or tok.dep_ != "ccomp"):
                continue  # "after she asked for ...": a pronoun in a side clause is anyone's
            if subj.lower_ in _PRONOUNS and any(c.lower_ in ("me", "us") for c in tok.subtree if c.i > tok.i
                                                and c.head == tok or c.head.head == tok and c.dep_ == "pobj"):
                continue  # "he told me": a writer's interview, whose "he" is not resolved here
            if subj.ent_type_ in ("ORG", "GPE") and any(t.ent_type_ == "PERSON" for t in doc[subj.i + 1: tok.i]):
                continue  # "Dagenham & Redbridge manager John Still told ...": the manager speaks
            if _inside_quote(tok):
                continue  # '"Zlatan wants to be ..."': someone else is speaking
            cluster = _subject_cluster(subj, index, ent_at, recent)
            if cluster is None:
                continue
            after = any(c.dep_ in (("ccomp",) if lemma in _NEEDS_CLAUSE else ("ccomp", "xcomp")) and c.i > tok.i
                        for c in tok.children)
            quote = _preceding_quote(tok)
            if quote and not (after or any(c.dep_ == "dobj" and c.i > tok.i for c in tok.children)
                              and lemma not in _NEEDS_CLAUSE):
                position = f"{'says' if lemma == 'tell' else _present(tok)}: {quote}"
            elif lemma in _NEEDS_CLAUSE and not after and not _quote_follows(tok):
                continue
            else:
                position = _position(tok, subj)
            if subj.lower_ in _PRONOUNS and any(re.search(rf"\b{re.escape(n)}\b", position, re.IGNORECASE)
                                                for n in cluster.surnames):
                continue  # '"Llorente is wonderful," he said' is not Llorente speaking
            firsts = {n.split()[0] for n in cluster.names if len(n.split()) > 1 and cluster.label == "PERSON"}
            if any(re.search(rf"\b{re.escape(f)}\b", position) for f in firsts):
                continue  # '"... Alice has been killed," Prof Ruggles said': her father, not Alice Ruggles
            if tok.text.isupper() and len(tok.text) > 1:
                continue  # "CLAIMS: First mainstream product to ...": a label in a product review
            if (cluster.label == "ORG" and len(cluster.name.split()) == 1 and cluster.votes["ORG"] < 3
                    and re.search(r"\b(?:I|I'm|I've|my|me)\b", position)):
                cluster.first_person = True  # "'I'm ready,' Clarkson told ...": a person the tagger took for an organisation
            if any(len(n.split()) > 1 and n.casefold() in position.casefold() for n in cluster.names):
                continue  # "... receive a tax cut David Cameron will say today": a headline glued on
            if re.search(r"\bpictured\b", sent.text, re.IGNORECASE):
                continue  # "Ian Guffick asked pupils at ..., pictured, to ...": a photo caption
            if substantive(position):
                cluster.statements.append((_strength(tok), position, sent.text.strip()))
    ranked = sorted((c for c in index.clusters if c.statements and _certain(c)),
                    key=lambda c: (-(len(c.statements) * 2 + c.mentions), c.names and doc.text.find(c.names[0])))
    return [_actor(c) for c in ranked[:max_actors]]


def _certain(c: _Cluster) -> bool:
    """A person known to be one, or an organisation no mention calls a person, named by more
    than a title ("the Green MSP")."""
    if c.is_person:
        return True
    name = c.name.split()
    if len(name) == 1 and name[0].lower() in _ORG_WORDS | _ORG_HEADS:
        return False  # "Hospital": a common noun, not a name
    return _label(c) == "ORG" and not c.votes["PERSON"] and name[-1].lower() not in _ROLE_NAMES


# "The Green MSP" is tagged as an organisation; a name that ends in a role names nobody.
_ROLE_NAMES = frozenset({"mp", "msp", "mep", "mla", "spokesman", "spokeswoman", "spokesperson", "minister",
                         "secretary", "leader", "chief", "chairman", "president"})


# Title words that only modify a title ("police" in "According to police Mr Docherty", "Defence"):
# a description must end in a word that names a role.
_TITLE_MODIFIERS = frozenset("""former deputy vice defence defense interior finance health justice state party opposition
council police foreign senior assistant acting interim general executive""".split())


def _description_title(title: str) -> str:
    """'Defence Secretary Sir' -> 'Defence Secretary'; 'Mr', 'police' -> '' (they describe nobody)."""
    words = title.split()
    while words and (_HONORIFICS.match(words[-1] + " ") or words[-1].lower().rstrip(".") in ("sir", "dame")):
        words.pop()
    if not words or words[-1].lower().rstrip(".") in _TITLE_MODIFIERS or words[-1].lower() in ("mr", "mrs", "ms"):
        return ""
    return " ".join(words)


def _label(c: _Cluster) -> str:
    if c.first_person:
        return "PERSON"
    return c.votes.most_common(1)[0][0] if c.votes else c.label


def _actor(c: _Cluster) -> Actor:
    # The strongest statement; among equals the first, usually the story's lede for that actor.
    _, position, evidence = max(c.statements, key=lambda s: s[0])
    label = _label(c)
    title = _description_title(c.title) if label == "PERSON" else ""
    description = title or _ACTOR_LABELS.get(label, "")
    return Actor(name=c.name, description=description, position=position, evidence=evidence)
