"""Feed parsing: RSS 0.9x / 1.0 / 2.0 and Atom via feedparser; JSON Feed 1.x (``jsonfeed.py``)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin

import feedparser

from briefing.errors import ParseError


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str
    summary_html: str
    published: datetime | None


def _when(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
    return None


def parse_feed(data: bytes, base_url: str) -> list[FeedEntry]:
    """Entries of a feed document; relative links resolve against ``base_url``.

    Raises ParseError when the document is not a feed or is broken before any entry.
    A feed with recoverable errors (feedparser's "bozo" flag) still yields its entries.
    """
    if not data.strip():
        raise ParseError(f"{base_url}: empty feed document")
    from briefing.ingest.jsonfeed import looks_like_json_feed, parse_json_feed  # jsonfeed imports FeedEntry

    if looks_like_json_feed(data):
        return parse_json_feed(data, base_url)
    # No base URL for feedparser: its own resolution mangles file:// links; we urljoin below.
    parsed = feedparser.parse(data)
    linked = [e for e in parsed.entries if e.get("link") or e.get("links")]
    if parsed.bozo and not linked:
        reason = getattr(parsed.get("bozo_exception"), "getMessage", lambda: None)() or parsed.get("bozo_exception")
        raise ParseError(f"{base_url}: not a valid RSS or Atom feed ({reason})")
    if not parsed.version and not parsed.entries:
        raise ParseError(f"{base_url}: not an RSS or Atom feed")
    entries = []
    for e in parsed.entries:
        link = e.get("link") or next((l.get("href") for l in e.get("links", []) if l.get("href")), None)
        if not link:
            continue
        summary = e.get("summary", "")
        if e.get("content"):
            summary = max((c.get("value", "") for c in e.content), key=len) or summary
        entries.append(FeedEntry(url=urljoin(base_url, link), title=(e.get("title") or "").strip(),
                                 summary_html=summary, published=_when(e)))
    return entries
