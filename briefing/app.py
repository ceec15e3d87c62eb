"""The library façade: one config, one store, one fetcher, one engine per process.

Every face calls it: the command line, the bot's handlers and the service's jobs each parse their
input, make one call here (or on its store) and reply (``docs/architecture.md``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Protocol

from briefing.config import Config
from briefing.errors import Action, BriefingError, classify
from briefing.ingest import Fetcher, Ingester, PollReport
from briefing.store import Store
from briefing.matching import delivery_match
from briefing.models import Article, Brief, utcnow
from briefing.summarise import Document, Engine, build_engine, cache_key

log = logging.getLogger(__name__)


@dataclass
class SummariseReport:
    done: int = 0
    reused: int = 0
    failed: list[str] = field(default_factory=list)
    brief_ids: list[int] = field(default_factory=list)
    retry_later: str | None = None  # the store was busy: stopped early, nothing lost

    def add(self, brief_id: int, reused: bool) -> None:
        self.brief_ids.append(brief_id)
        self.done += 1
        self.reused += reused


class SummaryTimer(Protocol):
    """Where the seconds of each summary go (the service's ``/metrics`` counters)."""

    def summarised(self, seconds: float) -> None: ...


class App:
    """Owns the long-lived parts. Build it once at start-up and pass it down."""

    def __init__(self, config: Config, store: Store | None = None, fetcher: Fetcher | None = None,
                 engine: Engine | None = None) -> None:
        self.config = config
        self.store = store or Store.open(config.db_url)
        self.fetcher = fetcher or Fetcher(config.ingest)
        self._engine = engine
        self.metrics: SummaryTimer | None = None  # the service's counters (/metrics), when it runs

    def close(self) -> None:
        if "ingester" in self.__dict__:  # built on first use (cached_property)
            self.ingester.close()
        self.fetcher.close()
        self.store.close()

    def __enter__(self) -> "App":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @cached_property
    def ingester(self) -> Ingester:
        return Ingester(self.config, self.store, self.fetcher)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = build_engine(self.config.summariser)
        return self._engine

    # -- stages ------------------------------------------------------------

    def ingest(self, *, force: bool = False, progress: Callable[[PollReport], None] | None = None,
               item_progress: Callable[[int, int], None] | None = None) -> list[PollReport]:
        """Poll sources; ``progress`` per source, ``item_progress(found, done)`` per article."""
        return self.ingester.poll_all(force=force, progress=progress, item_progress=item_progress)

    def topics_for(self, article: Article) -> list[str]:
        """A brief's topics are its source's topics (``sources[].topics``)."""
        return self.store.source_topics(article.source_id) if article.source_id is not None else []

    def summarise_article(self, article: Article) -> tuple[int, Brief, bool]:
        """Brief one stored article; a brief for the same text, model and version is reused.

        The brief and its deliveries are written in one transaction (issue 8): a crash at any
        moment leaves the article either pending (it is summarised again) or fully queued.
        """
        doc, key, brief = self.prepare_article(article)
        reused = brief is not None
        if brief is None:
            started = time.perf_counter()
            brief = self.engine.summarise(doc)
            self.timed(time.perf_counter() - started)
        return self.save_article_brief(article, brief, key, reused)

    def prepare_article(self, article: Article) -> tuple[Document, str, Brief | None]:
        """The document to summarise, its cache key, and the stored brief of the same text, model
        and version if there is one (then nothing needs summarising)."""
        doc = Document(title=article.title, text=article.text)
        key = cache_key(self.engine, doc)
        return doc, key, self.store.brief_by_cache_key(key)

    def timed(self, seconds: float) -> None:
        if self.metrics is not None:
            self.metrics.summarised(seconds)

    def save_article_brief(self, article: Article, brief: Brief, key: str, reused: bool) -> tuple[int, Brief, bool]:
        """Store ``brief`` for ``article`` with its deliveries, in one transaction (issue 8)."""
        brief.topics = self.topics_for(article)
        brief.source = self.store.source_name(article.source_id)
        brief.url, brief.published = article.url, article.published_at or article.fetched_at
        brief_id = self.store.save_brief(article.id, brief, key, delivery_match(self.store, brief))
        return brief_id, brief, reused

    def queue_deliveries(self, brief_id: int, subscribed_before: datetime | None = None) -> int:
        """Record a pending delivery for every subscriber the brief matches, before any send."""
        brief = self.store.get_brief(brief_id)
        if brief is None:
            return 0
        return self.store.queue_matching_deliveries(brief_id, delivery_match(self.store, brief, subscribed_before))

    def heal_deliveries(self, max_age: timedelta) -> int:
        """Queue the deliveries of recent briefs that have none (left by a version that wrote a brief
        and its deliveries in two transactions); only to subscriptions older than the brief, so a
        subscriber never gets yesterday's news for a subscription made today. Returns rows queued."""
        queued = 0
        for brief_id in self.store.briefs_without_deliveries(utcnow() - max_age):
            created = self.store.brief_created_at(brief_id)
            queued += self.queue_deliveries(brief_id, subscribed_before=created)
        return queued

    def summarise_pending(self, *, limit: int = 1000,
                          progress: Callable[[Article], None] | None = None) -> SummariseReport:
        report = SummariseReport()
        for article in self.store.pending_articles(limit):
            try:
                brief_id, _, reused = self.summarise_article(article)
                report.add(brief_id, reused)
            except BriefingError as exc:
                if self.settle_failure(report, article, exc):
                    break
            if progress:
                progress(article)
        return report

    def settle_failure(self, report: SummariseReport, article: Article, exc: BriefingError) -> bool:
        """Record why ``article`` got no brief; True when the store is busy (stop for now)."""
        if classify(exc) is Action.RETRY_LATER:
            # The database is busy: nothing was written, the article stays pending and the
            # next run takes it again. Not the article's fault, so not marked failed.
            report.retry_later = str(exc)
            log.warning("summarising paused: %s", exc)
            return True
        # Skip and record: the article is marked failed with the reason, others carry on.
        self.store.mark_article_failed(article.id, str(exc))
        report.failed.append(f"{article.title[:60]}: {exc}")
        log.warning("could not summarise article %s: %s", article.id, exc)
        return False
