"""Sentence splitting for news text: one splitter for the engines, the guard and ``briefing eval``.

A rule splitter, not the parser's: spaCy's small model splits after "Mr." and "U.S." and
inside quotes often enough to give fragments ("The minister's response to Mr") as summary
sentences and headlines (issue 9). A boundary is a ``.``, ``!`` or ``?`` (with any closing
quote or bracket) followed by space and an upper-case letter, digit or opening quote, except:

- after a title or abbreviation that is never a sentence end in news ("Dr.", "Mr.", "St.",
  "Gen.", "No.", "Jan." ...) or a single initial ("J. K. Rowling");
- after a dotted acronym ("U.S.", "U.N.", "a.m.") unless the next word starts a sentence
  ("... in the U.S. The president said"), since those do end sentences.

Paragraph breaks (blank lines) always end a sentence. Scraped text also glues sentences
together with no space at all ('in the US."Christopher had', 'told the AP.An attorney'): a
word followed by a full stop (or a question or exclamation mark, with any quote) and a
capitalised word is a boundary too, unless the word is an abbreviation or a dotted acronym.
"""

from __future__ import annotations

import re

# Written with their dot; compared case-sensitively on the word before the dot.
TITLES = frozenset("""
Mr Mrs Ms Mx Dr Prof Rev Fr Sr Jr St Mt Ft Gen Lt Col Maj Capt Cmdr Cdr Sgt Cpl Pte Adm Brig Gov Sen Rep
Pres Supt Insp Det Hon Atty Messrs Mme Mlle Sgt Spc Pfc
""".split())
ABBREVIATIONS = TITLES | frozenset("""
No Nos Vol Fig Op Inc Ltd Co Corp Bros Plc Dept Univ Assn Ave Blvd Rd vs v etc approx est cf al
Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Mon Tue Tues Wed Thu Thur Thurs Fri Sat Sun
Ala Ariz Ark Calif Colo Conn Del Fla Ga Ill Ind Kan Ky La Md Mass Mich Minn Miss Mo Mont Neb Nev Okla Ore Pa
Tenn Tex Va Vt Wash Wis Wyo
""".split())
# Words that begin a sentence after a dotted acronym: "... in the U.S. The president said".
_STARTERS = frozenset("""
A An The He She It They We I You His Her Its Their Our My This That These Those There Here But And
Or So Yet However Meanwhile In On At After Before When While If As Now Then Some Many Most Police
Officials Mr Mrs Ms Dr
""".split())

_CANDIDATE = re.compile(r"""[.!?]+['"’”)\]]*(?=\s+['"‘“(\[]{0,2}[A-Z0-9])""")
# Glued: '...US."Christopher', '...the AP.An', '...2013.It', '...holeMr Lahiff' (no space between).
# (A capitalised word glued to the previous one with no stop at all, "holeMr Lahiff", is a lost
# paragraph break: ``ingest.clean`` restores it.)
_GLUED = re.compile(r"""(?:(?<=[a-z]{2})|(?<=[A-Z]{2})|(?<=[0-9)]))[.!?]+['"’”]?(?=['"‘“]?[A-Z][a-z])"""
                    r"""|(?<=[a-z]{2}['"’”])[.!?](?=[A-Z])""")  # 'no "clear scientific basis".NRW said
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.'’-]*)\.$")
_ACRONYM = re.compile(r"^(?:[A-Za-z]\.){2,}$|^(?:[A-Za-z]\.)+[A-Za-z]$")


def _is_boundary(text: str, end: int, mark: str) -> bool:
    """Whether the punctuation ``mark`` ending at ``end`` ends a sentence."""
    if mark != ".":
        return True  # "!", "?", "...", and a closing quote or bracket after the dot
    m = _WORD_BEFORE.search(text[max(0, end - 40):end])
    if not m:
        return True
    word = m.group(1)
    if word in ABBREVIATIONS:
        return False
    if len(word) == 1 and word.isupper():
        return False  # an initial: "J. K. Rowling"
    if _ACRONYM.match(word + "."):
        nxt = re.match(r"\s+['\"‘“(]?([A-Za-z]+)", text[end:])
        return bool(nxt and nxt.group(1) in _STARTERS)
    return True


def _glued_boundary(text: str, m: re.Match[str]) -> bool:
    """A glued match ends a sentence unless the word before is an abbreviation ("Mrs.Smith")."""
    word = re.search(r"([A-Za-z]+)$", text[:m.start()])
    return not (word and word.group(1) in ABBREVIATIONS) and not _ACRONYM.match(
        (re.search(r"(\S+)$", text[:m.start()]) or re.match("", "")).group(0) + ".")


def sentence_offsets(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the sentences of ``text``, paragraphs included."""
    out: list[tuple[int, int]] = []
    for para in re.finditer(r"\S(?:.|\n(?!\s*\n))*", text):
        base, chunk = para.start(), para.group(0)
        start = 0
        ends = sorted([(m.end(), False) for m in _CANDIDATE.finditer(chunk)
                       if _is_boundary(chunk, m.start() + 1, m.group(0))]
                      + [(m.end(), True) for m in _GLUED.finditer(chunk) if _glued_boundary(chunk, m)])
        for end, glued in ends:
            if glued and chunk[end - 1] in '"”' and chunk[start:end - 1].count('"') % 2 == 0:
                end -= 1  # 'the US."Christopher had ...': the quote opens the next sentence
            if end > start:
                out.append((base + start, base + end))
                start = end + len(chunk[end:]) - len(chunk[end:].lstrip())
        if chunk[start:].strip():
            out.append((base + start, base + len(chunk.rstrip())))
    return [(a, b) for a, b in out if text[a:b].strip()]


def split_paragraph(paragraph: str) -> list[str]:
    return [" ".join(paragraph[a:b].split()) for a, b in sentence_offsets(paragraph)]


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, never crossing a blank line; single newlines are spaces."""
    return [" ".join(text[a:b].split()) for a, b in sentence_offsets(text)]
