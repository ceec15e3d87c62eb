"""JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/) as feed entries.

A JSON Feed is a JSON object whose ``version`` is ``https://jsonfeed.org/version/1`` or
``.../1.1`` with an ``items`` list; each item has an ``id`` and usually a ``url`` (or
``external_url``), ``title``, ``content_html`` or ``content_text``, ``summary`` and
``date_published`` (RFC 3339).
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from urllib.parse import urljoin

from briefing.errors import ParseError
from briefing.ingest.feeds import FeedEntry

VERSION_PREFIX = "https://jsonfeed.org/version/1"
CONTENT_TYPES = ("application/feed+json", "application/json")


def looks_like_json_feed(data: bytes, content_type: str = "") -> bool:
    """A JSON document (or one served as ``application/feed+json``) that names a JSON Feed version."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        return False
    return "feed+json" in content_type or b"jsonfeed.org/version/" in head


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def parse_json_feed(data: bytes, base_url: str) -> list[FeedEntry]:
    """Entries of a JSON Feed; raises ParseError for anything that is not one."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"{base_url}: not a valid JSON Feed ({exc})") from None
    if not isinstance(doc, dict) or not str(doc.get("version", "")).startswith(VERSION_PREFIX):
        raise ParseError(f"{base_url}: not a JSON Feed (no https://jsonfeed.org/version/1.x version)")
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError(f"{base_url}: JSON Feed has no items list")
    entries = []
    for item in items:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url")
        if not isinstance(link, str) or not link.strip():
            continue
        content = item.get("content_html") or ""
        if not content and isinstance(item.get("content_text"), str):
            content = "".join(f"<p>{html.escape(p)}</p>" for p in item["content_text"].split("\n\n"))
        content = content or html.escape(str(item.get("summary") or ""))
        entries.append(FeedEntry(url=urljoin(base_url, link.strip()), title=str(item.get("title") or "").strip(),
                                 summary_html=str(content),
                                 published=_when(item.get("date_published") or item.get("date_modified"))))
    return entries
