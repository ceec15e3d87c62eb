"""The application object: one config, one store, one fetcher, one engine per process."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from briefing.config import Config
from briefing.errors import BriefingError
from briefing.ingest import Fetcher, Ingester, PollReport
from briefing.models import Brief
from briefing.store import Store
from briefing.service.matching import queue_for_brief
from briefing.service.metrics import Metrics
from briefing.store.schema import Article
from briefing.summarise import Document, Engine, build_engine, cache_key

log = logging.getLogger(__name__)


@dataclass
class SummariseReport:
    done: int = 0
    reused: int = 0
    failed: list[str] = field(default_factory=list)
    brief_ids: list[int] = field(default_factory=list)


class App:
    """Owns the long-lived parts. Build it once at start-up and pass it down."""

    def __init__(self, config: Config, store: Store | None = None, fetcher: Fetcher | None = None,
                 engine: Engine | None = None) -> None:
        self.config = config
        self.store = store or Store.open(config.db_url)
        self.fetcher = fetcher or Fetcher(config.ingest)
        self._engine = engine
        self.metrics: Metrics | None = None  # the service's counters (/metrics), when it runs

    def close(self) -> None:
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
        """Brief one stored article; a brief for the same text, model and version is reused."""
        doc = Document(title=article.title, text=article.text)
        key = cache_key(self.engine, doc)
        brief = self.store.brief_by_cache_key(key)
        reused = brief is not None
        if brief is None:
            started = time.perf_counter()
            brief = self.engine.summarise(doc)
            if self.metrics is not None:
                self.metrics.summarised(time.perf_counter() - started)
        brief.topics = self.topics_for(article)
        brief_id = self.store.save_brief(article.id, brief, key)
        brief.url, brief.published = article.url, article.published_at or article.fetched_at
        self.queue_deliveries(brief_id)
        return brief_id, brief, reused

    def queue_deliveries(self, brief_id: int) -> int:
        """Record a pending delivery for every subscriber the brief matches, before any send.

        Telegram deliveries are pushed as they come; email subscribers get briefs in their
        daily digest instead, so only the Telegram channel is queued per brief.
        """
        brief = self.store.get_brief(brief_id)
        if brief is None:
            return 0
        return queue_for_brief(self.store, brief_id, brief)

    def summarise_pending(self, *, limit: int = 1000,
                          progress: Callable[[Article], None] | None = None) -> SummariseReport:
        report = SummariseReport()
        for article in self.store.pending_articles(limit):
            try:
                brief_id, _, reused = self.summarise_article(article)
                report.brief_ids.append(brief_id)
                report.done += 1
                report.reused += reused
            except BriefingError as exc:
                # Skip and record: the article is marked failed with the reason, others carry on.
                self.store.mark_article_failed(article.id, str(exc))
                report.failed.append(f"{article.title[:60]}: {exc}")
                log.warning("could not summarise article %s: %s", article.id, exc)
            if progress:
                progress(article)
        return report
