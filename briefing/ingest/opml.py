"""OPML 2.0 subscription lists (http://opml.org/spec2.opml): import and export of sources.

Import reads every ``<outline>`` with an ``xmlUrl`` (a feed); the ``text``/``title`` of the
outlines it sits in become its topics (``News > World`` -> topics ``news``, ``world``), as do
the comma-separated values of its ``category`` attribute. Export writes every source with a URL,
grouped into one outline per first topic, which import reads back to the same topics.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path

from briefing.errors import ParseError

MAX_BYTES = 5_000_000
MAX_OUTLINES = 10_000


@dataclass(frozen=True)
class OpmlFeed:
    name: str
    url: str
    topics: tuple[str, ...]
    html_url: str | None = None


def _topic(text: str) -> str:
    return " ".join(text.split()).casefold()


def parse_opml(data: bytes, origin: str = "OPML") -> list[OpmlFeed]:
    """Feeds in an OPML document, in document order; raises ParseError for anything else."""
    if len(data) > MAX_BYTES:
        raise ParseError(f"{origin}: larger than {MAX_BYTES:,} bytes")
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise ParseError(f"{origin}: DTDs and entities are not allowed in OPML")  # no entity expansion
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ParseError(f"{origin}: not valid XML ({exc})") from None
    if root.tag != "opml" or root.find("body") is None:
        raise ParseError(f"{origin}: not an OPML document (no <opml><body>)")
    feeds: list[OpmlFeed] = []
    count = 0

    def walk(node: ET.Element, path: tuple[str, ...]) -> None:
        nonlocal count
        for outline in node.findall("outline"):
            count += 1
            if count > MAX_OUTLINES:
                raise ParseError(f"{origin}: more than {MAX_OUTLINES:,} outlines")
            label = (outline.get("title") or outline.get("text") or "").strip()
            url = (outline.get("xmlUrl") or "").strip()
            if url:
                cats = [_topic(c) for c in re.split(r"[,/]", outline.get("category") or "") if c.strip()]
                topics = tuple(dict.fromkeys([*path, *cats]))
                feeds.append(OpmlFeed(name=label or url, url=url, topics=topics,
                                      html_url=outline.get("htmlUrl") or None))
            else:
                walk(outline, (*path, _topic(label)) if label else path)

    walk(root.find("body"), ())  # type: ignore[arg-type]
    return feeds


def read_opml(path: Path) -> list[OpmlFeed]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return parse_opml(data, str(path))


def render_opml(feeds: Iterable[OpmlFeed], title: str = "briefing sources",
                now: datetime | None = None) -> str:
    """An OPML 2.0 document: feeds without topics at the top level, others under their first topic."""
    now = now or datetime.now(timezone.utc)
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ET.SubElement(root, "body")
    groups: dict[str, ET.Element] = {}
    for feed in feeds:
        parent = body
        if feed.topics:
            first = feed.topics[0]
            if first not in groups:
                groups[first] = ET.SubElement(body, "outline", text=first, title=first)
            parent = groups[first]
        attrs = {"type": "rss", "text": feed.name, "title": feed.name, "xmlUrl": feed.url}
        if len(feed.topics) > 1:
            attrs["category"] = ",".join(feed.topics[1:])
        if feed.html_url:
            attrs["htmlUrl"] = feed.html_url
        ET.SubElement(parent, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
