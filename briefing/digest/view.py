"""A digest as every channel shows it, before any markup: numbered stories under labelled
sections, each with its meta line (outlet, local time), its link and its gist.

The email (:mod:`briefing.deliver.email.render`) and the Telegram message
(:mod:`briefing.deliver.telegram.digest`) are two renderings of this one view, so they carry the
same stories in the same order with the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from briefing.digest.compose import OTHER_TOPIC, DigestContent, DigestItem
from briefing.models import GIST_LABEL


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are rendered: a feed can hand us ``javascript:`` or ``data:`` URLs."""
    if url and urlsplit(url).scheme.lower() in ("http", "https"):
        return url
    return None


def _when(item: DigestItem, tz: ZoneInfo) -> str:
    if item.brief.published is None:
        return ""
    return item.brief.published.astimezone(tz).strftime("%a %d %b, %H:%M %Z")


def story_view(item: DigestItem, number: int, tz: ZoneInfo) -> dict[str, object]:
    """One story's fields, as the templates and the Telegram message use them."""
    b = item.brief
    meta = " · ".join(m for m in (b.source or "", _when(item, tz)) if m)
    return {
        "number": number, "headline": b.headline, "url": safe_url(b.url), "source": b.source or "",
        "meta": meta, "sources": item.sources, "keywords": ", ".join(item.keyword_hits),
        "summary": b.summary_text, "actors": b.actors, "gist": b.gist, "gist_label": GIST_LABEL,
    }


def section_label(topic: str) -> str:
    return "Other stories" if topic == OTHER_TOPIC else topic[:1].upper() + topic[1:]


def subject_for(content: DigestContent) -> str:
    n = len(content.items)
    stories = "no new stories" if n == 0 else f"{n} {'story' if n == 1 else 'stories'}"
    return f"Your briefing for {content.digest_date:%a %d %b %Y}: {stories}"


def numbered(content: DigestContent) -> Iterator[tuple[str, list[tuple[int, DigestItem]]]]:
    """(section label, [(story number, item)]) in order; numbers run on across sections."""
    number = 0
    for section in content.sections:
        items = []
        for item in section.items:
            number += 1
            items.append((number, item))
        yield section_label(section.topic), items
