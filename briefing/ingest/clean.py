"""Boilerplate removal and normalisation of article text.

Scraped pages carry lines that are not the story: the title repeated, a menu of
languages, "share this" and comment prompts. Only short lines are candidates,
so a paragraph of the story is never dropped for containing a trigger phrase.
"""

from __future__ import annotations

import re
import unicodedata

from briefing.sentences import split_paragraph

_QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
})
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")

# Prompts and chrome that pages put around a story (matched on short lines only).
_BOILERPLATE = re.compile(
    r"""(click\s+(below|here)|express\s+your\s+(thoughts|views)|leave\s+a\s+(comment|reply)|
    share\s+(this|on|via)|follow\s+us|subscribe\s+(to|now)|sign\s+up\s+for|newsletter|
    read\s+more|related\s+(articles|stories|news)|advertisement|all\s+rights\s+reserved|
    cookie|accept\s+all|skip\s+to\s+(main\s+)?content|^tags?:|^image\s*(source|caption)?:|
    ^(photo|image)\s+(credit|courtesy)|^also\s+read|^watch:|^listen:|back\s+to\s+top)""",
    re.IGNORECASE | re.VERBOSE,
)
_LANGUAGE_NAMES = {
    "english", "français", "francais", "deutsch", "español", "espanol", "italiano", "português",
    "русский", "українська", "العربية", "中文", "日本語", "한국어", "हिंदी", "मराठी", "বাংলা",
    "తెలుగు", "தமிழ்", "ગુજરાતી", "ਪੰਜਾਬੀ", "ಕನ್ನಡ", "മലയാളം", "اردو", "türkçe", "polski", "nederlands",
}
_SHORT = 160
# Page chrome that scrapers leave inside the story, wherever it sits (issue 9): video prompts,
# the BBC's embedded-player notice and picture credits. Removed as phrases, before and after
# single-newline lines are joined, so a notice glued to a sentence goes too.
_CHROME = re.compile(
    r"""\s*(?:media\s+playback\s+is\s+(?:not\s+|un)?supported\s+on\s+(?:this|your)\s+device\.?
    |image\s+copyright\s+[^\n]{0,60}?(?=\n|$)
    |image\s+caption\s+[^\n]*
    |(?:watch|video|listen):\s+[^\n.]{0,80}(?=\n|$)
    |more\s+on\s+this\s+story\b[^\n.]{0,60}(?=\n|$)
    |share\s+this\s+with\s*(?:email|facebook|twitter|messenger|pinterest|whatsapp|linkedin|\s)*copy\s+this\s+link)""",
    re.IGNORECASE | re.VERBOSE)
# BBC pages lose some paragraph breaks, gluing a sentence opener to the last word before it:
# "More stories from across YorkshireThe council announced", "on the 11th holeMr Lahiff said".
_GLUED_OPENER = re.compile(r"(?<=[a-z]{3})(?=(?:The|Mr|Mrs|Ms|Dr|He|She|They|But|This|Police)\s)")
_SCROLL = re.compile(r"\s*scroll\s+down\s+for\s+(?:the\s+)?videos?(?:\s*\.{2,}|\s*[.:])?\s*", re.IGNORECASE)
# Parentheses that point at a photo, not at the story: "(pictured)", "(left)", "(file photo)".
_PHOTO_REF = re.compile(r"\s*\((?:pictured(?:\s+\w+){0,3}|left|right|centre|center|circled|top|bottom|"
                        r"inset|above|below|file(?:\s+(?:photo|picture|image))?|stock\s+(?:photo|image|picture)|"
                        r"(?:left|right|centre|center)\s+and\s+(?:left|right|centre|center)|"
                        r"[^()]{0,40}\b(?:pictured|shown|illustration|impression|file\s+photo|stock\s+image)\b[^()]{0,20})\)",
                        re.IGNORECASE)
# A photo caption: a short label and a colon, then the caption, with no full stop of its own,
# so a sentence splitter glues it to the next sentence ("Violent: The video captures ...").
_CAPTION_LABEL = re.compile(r"^[A-Z][\w'’-]*(?:\s+[\w'’-]+){0,3}\s*[:!]\s+[A-Z]")
_SAYING = re.compile(r"\b(?:said|says|say|told|tells|added|adds|explained|asked|wrote|writes|warned|"
                     r"insisted|continued|stated|declared|replied|tweeted|posted|reads|read|ruled|"
                     r"announced|concluded|commented|recalled|admitted)\b", re.IGNORECASE)
# Wire datelines glued to the first sentence: "(CNN)An unmanned ...", "LONDON (Reuters) - ...".
_DATELINE = re.compile(r"^(?:[A-Z][A-Za-z .,'-]{0,40}\s)?\((?:CNN|AP|Reuters|AFP|UPI|Bloomberg)\)\s*(?:[-–—]+\s*)?")


def normalise(text: str) -> str:
    """Unicode NFC, straight quotes, single spaces; keeps line breaks."""
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def _key(line: str) -> str:
    return re.sub(r"\W+", " ", line.casefold()).strip()


def is_language_menu(line: str) -> bool:
    """A line made only of language names, or of a few short words none of them Latin."""
    words = line.split()
    if not words or len(words) > 12:
        return False
    if all(w.casefold().strip("|·•/") in _LANGUAGE_NAMES for w in words):
        return True
    letters = [c for c in line if c.isalpha()]
    non_latin = [c for c in letters if "LATIN" not in unicodedata.name(c, "")]
    return len(words) <= 6 and bool(letters) and len(non_latin) == len(letters) and not re.search(r"[.!?]$", line)


def is_boilerplate(line: str, title: str | None = None) -> bool:
    if title and _key(line) == _key(title):
        return True
    if len(line) > _SHORT:
        return False
    return is_language_menu(line) or bool(_BOILERPLATE.search(line))


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs are separated by blank lines; single newlines inside one are joined.

    Chrome is removed line by line first (a notice on its own line must not be glued to the
    sentences around it), then from the joined paragraph, with photo captions.
    """
    out = []
    text = _GLUED_OPENER.sub("\n\n", text)
    for block in re.split(r"\n\s*\n", text):
        lines = [_CHROME.sub(" ", line) for line in block.split("\n")]
        paragraph = strip_captions(" ".join(" ".join(lines).split()))
        if paragraph:
            out.append(paragraph)
    return out


def is_caption(sentence: str) -> bool:
    """'Grim discovery: Street cleaners who found the remains ...' but not 'He said: "..."'."""
    m = _CAPTION_LABEL.match(sentence)
    if not m:
        return False
    label = re.split(r"[:!]", sentence, maxsplit=1)[0]
    return not _SAYING.search(label)


def strip_captions(paragraph: str) -> str:
    """Remove video prompts, photo captions and photo pointers from one paragraph.

    Daily Mail pages put "Scroll down for video" above the lead photo, so the sentence after it
    is that photo's caption glued (no full stop of its own) to the next sentence: both go.
    """
    sents: list[str] = []
    for n, part in enumerate(_SCROLL.split(paragraph)):
        part_sents = split_paragraph(_PHOTO_REF.sub("", _CHROME.sub(" ", part)))
        if n > 0:
            part_sents = part_sents[1:]
        sents.extend(s for s in part_sents if not is_caption(s))
    return " ".join(sents)


def clean_article(text: str, title: str | None = None) -> tuple[str, str]:
    """Return ``(title, text)`` with boilerplate removed and paragraphs kept.

    When ``title`` is None the first short line of the text is taken as the title.
    """
    paragraphs = split_paragraphs(normalise(text))
    if title is None and paragraphs and len(paragraphs[0]) <= _SHORT and not paragraphs[0].endswith("."):
        title = paragraphs.pop(0)
    title = normalise(title or "").strip()
    kept = [p for p in paragraphs if not is_boilerplate(p, title)]
    if kept:
        kept[0] = _DATELINE.sub("", kept[0], count=1) or kept[0]
    # A trailing short line that is not a sentence is page chrome ("Share", a byline link...).
    while kept and len(kept[-1]) < 40 and not re.search(r"[.!?\"']$", kept[-1]):
        kept.pop()
    return title, "\n\n".join(kept)
