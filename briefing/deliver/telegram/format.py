"""Telegram HTML for briefs: every piece of text escaped, links only to our stored http(s) URLs.

Telegram's HTML parse mode (https://core.telegram.org/bots/api#html-style) understands a few
tags and the entities ``&lt; &gt; &amp; &quot;`` plus numeric ones; anything else is a
"can't parse entities" error, and a ``<a href>`` built from feed text could inject a link.
So every string that came from a feed, a page or a user goes through :func:`esc`, and a link
is made only by :func:`link` from a URL we stored ourselves, and only if it is http(s).

A message may hold at most 4,096 characters (https://core.telegram.org/bots/api#sendmessage);
:func:`split_html` cuts longer text at paragraph boundaries and never inside a tag or entity.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from briefing.markup import esc, link
from briefing.models import GIST_LABEL, KEY_FACTS_LABEL, Brief

MAX_MESSAGE = 4096
_TOKEN = re.compile(r"<[^>]*>|&[#\w]+;|[^<&]+|[<&]")
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)")


def brief_html(brief: Brief) -> str:
    """One brief: bold headline, summary, key actors as a short list, meta line, source link."""
    parts = [f"<b>{esc(brief.headline)}</b>", *gist_html(brief), esc(brief.summary_text)]
    if brief.actors:
        lines = ["<b>Key actors</b>"]
        lines += [f"• <b>{esc(a.name)}</b> — {esc(a.position)}" for a in brief.actors]
        parts.append("\n".join(lines))
    meta = [", ".join(brief.topics), brief.source or "",
            brief.published.strftime("%Y-%m-%d %H:%M UTC") if brief.published else ""]
    meta_text = " · ".join(m for m in meta if m)
    tail = [f"<i>{esc(meta_text)}</i>"] if meta_text else []
    if brief.url and urlsplit(brief.url).scheme.lower() in ("http", "https"):
        tail.append(link(brief.url, "Read the article"))
    if tail:
        parts.append("\n".join(tail))
    return "\n\n".join(p for p in parts if p)


def gist_html(brief: Brief) -> list[str]:
    """The gist first, marked as machine-written, and a heading for the key facts under it."""
    if not brief.gist:
        return []
    return [f"<i>{esc(GIST_LABEL)}:</i> {esc(brief.gist)}", f"<b>{esc(KEY_FACTS_LABEL)}</b>"]


def briefs_html(briefs: Sequence[Brief], title: str | None = None) -> str:
    """Several briefs in one text (split it with :func:`split_html`), optionally under a title."""
    body = "\n\n".join(brief_html(b) for b in briefs)
    return f"<b>{esc(title)}</b>\n\n{body}" if title else body


def html_to_text(text: str) -> str:
    """The plain text Telegram would show for our HTML (used to resend without markup)."""
    return html.unescape(re.sub(r"<[^>]*>", "", text))


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units (https://core.telegram.org/api/entities)."""
    return len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Cut HTML into messages of at most ``limit`` UTF-16 units, at paragraph boundaries.

    Paragraphs are packed greedily; one longer than ``limit`` is cut at word boundaries with
    open tags closed at the end of a piece and reopened at the start of the next. The raw HTML
    length is measured, which is never less than the length Telegram counts.
    """
    chunks: list[str] = []
    current = ""
    for para in text.split("\n\n"):
        pieces = [para] if utf16_len(para) <= limit else _hard_split(para, limit)
        for piece in pieces:
            joined = f"{current}\n\n{piece}" if current else piece
            if utf16_len(joined) <= limit:
                current = joined
            else:
                if current:
                    chunks.append(current)
                current = piece
    if current.strip():
        chunks.append(current)
    return chunks or [""]


def _units(fragment: str) -> list[str]:
    """Tags and entities whole; text as words (with their trailing space) or single characters."""
    out: list[str] = []
    for token in _TOKEN.findall(fragment):
        if token.startswith("<") and len(token) > 1 or token.startswith("&") and len(token) > 1:
            out.append(token)
        else:
            out.extend(re.findall(r"\S+\s*|\s+", token))
    return out


def _hard_split(para: str, limit: int) -> list[str]:
    pieces: list[str] = []
    stack: list[tuple[str, str]] = []  # (name, opening tag) of the tags open at this point
    current = ""

    def closing() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(stack))

    for unit in _units(para):
        m = _TAG.match(unit)
        # A word longer than a whole message is cut into characters (entities stay whole).
        subunits = [unit] if m or unit.startswith("&") or utf16_len(unit) < limit // 2 else list(unit)
        # An opening tag will need its closing tag in this piece too.
        opens = f"</{m.group(2).lower()}>" if m and not m.group(1) and not unit.endswith("/>") else ""
        for sub in subunits:
            if current and utf16_len(current + sub + opens + closing()) > limit:
                pieces.append(current + closing())
                current = "".join(tag for _, tag in stack)
            current += sub
            if m:
                if m.group(1):
                    if stack and stack[-1][0] == m.group(2).lower():
                        stack.pop()
                elif not unit.endswith("/>"):
                    stack.append((m.group(2).lower(), unit))
    if current:
        pieces.append(current + closing())
    return pieces
