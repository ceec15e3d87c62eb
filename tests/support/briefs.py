"""``add_brief``: a stored article and its brief, as the summarise stage leaves them."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from briefing.models import Actor, ArticleDraft, Brief
from briefing.store import Store
from briefing.store.schema import BriefRow

PUBLISHED = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
_numbers = itertools.count(1)


def add_brief(target: Store | Any, headline: str = "Harbour plan approved", *, source: str | None = "harbour-news",
              topics: Sequence[str] | None = None, created_at: datetime | None = None,
              published: datetime | None = None, duplicates: int = 0, summary: list[str] | None = None,
              actors: list[Actor] | None = None, url: str | None = None, queue: bool = True) -> int:
    """Store an article and its brief; return the brief's id.

    ``target``: a ``Store``, or the library's ``App``; with an App the brief's deliveries are
    queued too, as after summarising (unless ``queue=False``). ``source``: its name, added with
    ``topics`` when the store lacks it; ``None``: an article without a source. ``topics``: the
    brief's, by default its source's (the app's rule). ``created_at``: when the brief was written
    (default: now); ``published``: the article's date (default: ``created_at``, else
    :data:`PUBLISHED`). ``duplicates``: near-copies of the article from other outlets.
    """
    store: Store = target if isinstance(target, Store) else target.store
    if source is not None and store.get_source(source) is None:
        store.add_source(source, "folder", "/tmp", list(topics or []))
    n = next(_numbers)
    published = published or created_at or PUBLISHED
    article = store.add_article(
        ArticleDraft(url=url or f"https://news.example/story/{n}", title=headline,
                     text=f"Article {n}: {headline}. " * 5, published=published, source_name=source),
        source_name=source, fingerprint=[])
    assert article is not None
    for d in range(duplicates):
        store.add_article(ArticleDraft(url=f"https://other{d}.example/{n}", title=headline,
                                       text=f"Copy {d} of {n}: {headline}.", published=published),
                          source_name=None, fingerprint=[], duplicate_of=article.id)
    if topics is None:
        topics = store.source_topics(article.source_id) if article.source_id is not None else []
    brief = Brief(headline=headline, summary=summary or [f"{headline} happened today.", "Officials reacted."],
                  actors=actors if actors is not None else [
                      Actor("Anna Berg", "Mayor", "backs the plan", "Berg said she backs it.")],
                  engine="extractive", topics=list(topics))
    brief_id = store.save_brief(article.id, brief, cache_key=f"brief-{n}")
    if created_at is not None:
        with store.session() as s:
            s.get(BriefRow, brief_id).created_at = created_at  # type: ignore[union-attr]
    if queue and not isinstance(target, Store):
        target.queue_deliveries(brief_id)
    return brief_id
