"""The library façade: one config, one store, one fetcher, one engine per process.

Every face calls it: the command line, the bot's handlers and the service's jobs each parse their
input, make one call here and reply (``docs/architecture.md``). The faces never reach through it
into the store (``tests/test_architecture.py``): each thing a user or a job does is one method
below, and the store's SQL stays behind it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from briefing.config import Config
from briefing.digest import DigestContent, preview_content
from briefing.errors import Action, BriefingError, classify
from briefing.ingest import Fetcher, Ingester, PollReport
from briefing.store import Store
from briefing.matching import delivery_match, filter_briefs, known_sources, known_topics
from briefing.models import (
    Article,
    Brief,
    Flag,
    JobRecord,
    LeaseInfo,
    PendingDelivery,
    Source,
    StoredStory,
    Subscriber,
    Subscription,
    utcnow,
)
from briefing.summarise import Document, Engine, build_engine, cache_key

if TYPE_CHECKING:  # loaded on first use: the story stage brings numpy and the NLP models
    from briefing.stories.service import Notice, Stories

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


ARTICLE_STATES = ("new", "summarised", "failed", "duplicate")
# How far back /summary looks for a subscriber's top briefs, and how many stored briefs a query
# for a topic, source or keyword is matched against.
TOP_BRIEFS_HOURS = 24
LATEST_MATCHING_SCAN = 2000


@dataclass(frozen=True)
class BotStats:
    """Counts for the bot admin's ``/stats``."""

    subscribers_active: int
    subscribers_inactive: int
    subscriptions: int
    briefs_24h: int
    deliveries: dict[str, int]


@dataclass(frozen=True)
class StatusReport:
    """What ``briefing status`` shows: sources, queues, today's output, jobs and a lease."""

    now: datetime
    day_start: datetime  # start of today, in the host's time zone
    sources: list[Source]
    articles: dict[str, int]  # by status; "new" are waiting for a brief
    deliveries: dict[str, int]  # by status
    briefs_today: int
    digests_today: dict[str, int]  # by status, digests dated today
    jobs: list[JobRecord]
    lease: LeaseInfo | None

    @property
    def lease_live(self) -> bool:
        return self.lease is not None and self.lease.expires_at > self.now


@dataclass(frozen=True)
class Totals:
    """What the database holds now, by status: the gauges ``/metrics`` reads at scrape time."""

    articles: dict[str, int]
    deliveries: dict[str, int]
    digests: dict[str, int]
    briefs_total: int


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

    # -- briefs --------------------------------------------------------------

    def briefs(self, *, since: datetime | None = None, topic: str | None = None, limit: int | None = None,
               newest_first: bool = True) -> list[tuple[int, Brief]]:
        """Stored briefs as (id, brief), optionally since a time and for one topic."""
        return self.store.list_briefs(since=since, topic=topic, limit=limit, newest_first=newest_first)

    def briefs_by_id(self, brief_ids: list[int]) -> dict[int, Brief]:
        """The stored briefs of these ids (missing ones left out)."""
        return self.store.get_briefs(brief_ids)

    def brief_article_id(self, brief_id: int) -> int | None:
        """The article a brief was written from (its story buttons point at it)."""
        return self.store.brief_article_id(brief_id)

    def latest_briefs_matching(self, query: str, limit: int) -> list[Brief]:
        """The newest stored briefs for a topic, source or keyword (``/summary <query>``)."""
        subs = [Subscription(kind=kind, value=query.casefold()) for kind in ("topic", "source", "keyword")]
        recent = self.store.list_briefs(limit=LATEST_MATCHING_SCAN)
        return [b for _, b in filter_briefs(recent, subs)][:limit]

    def top_briefs(self, subscriptions: list[Subscription], limit: int) -> list[Brief]:
        """Briefs of the last 24 hours for a subscriber: those matching their subscriptions, else all."""
        recent = self.store.list_briefs(since=utcnow() - timedelta(hours=TOP_BRIEFS_HOURS))
        chosen = filter_briefs(recent, subscriptions) if subscriptions else recent
        return [b for _, b in chosen][:limit]

    def articles_waiting(self) -> int:
        """Stored articles that have no brief yet."""
        return self.store.count_articles("new")

    def pending_articles(self, limit: int) -> list[Article]:
        """Up to ``limit`` stored articles waiting for a brief, taken round-robin over sources."""
        return self.store.pending_articles(limit)

    # -- subscribers ---------------------------------------------------------

    def chat_subscriber(self, chat_id: int) -> Subscriber | None:
        """The subscriber of a Telegram chat, if it has ever written."""
        return self.store.subscriber_by_chat(chat_id)

    def register_chat(self, chat_id: int, *, user_id: int | None, display_name: str | None) -> Subscriber:
        """The subscriber of a Telegram chat, created (or re-activated) on first contact."""
        return self.store.telegram_subscriber(chat_id, user_id=user_id, display_name=display_name)

    def stop_subscriber(self, subscriber_id: int, reason: str) -> None:
        """Send nothing more to a subscriber; their subscriptions are kept for a restart."""
        self.store.deactivate_subscriber(subscriber_id, reason)

    def forget_subscriber(self, subscriber_id: int) -> None:
        """Erase everything stored about a subscriber."""
        self.store.delete_subscriber(subscriber_id)

    def subscriptions(self, subscriber_id: int) -> list[Subscription]:
        """What a subscriber follows."""
        return self.store.subscriptions(subscriber_id)

    def follow(self, subscriber_id: int, kind: str, value: str) -> bool:
        """Subscribe to a topic, source or keyword; False when already followed."""
        return self.store.subscribe(subscriber_id, kind, value)

    def unfollow(self, subscriber_id: int, kind: str | None, value: str) -> int:
        """Drop a subscription (of any kind when ``kind`` is None); the number removed."""
        return self.store.unsubscribe(subscriber_id, kind, value)

    def followable(self) -> tuple[list[str], list[str]]:
        """What can be followed by name: the known topics and the active sources' names."""
        return known_topics(self.config, self.store), known_sources(self.store)

    def set_telegram_digest(self, subscriber_id: int, at: str | None, timezone_name: str | None = None,
                            ) -> Subscriber | None:
        """The daily digest in Telegram at ``at`` (``HH:MM``, in ``timezone_name`` if given), or off (None)."""
        if at is None:
            return self.store.update_subscriber(subscriber_id, digest_telegram=False)
        fields: dict[str, object] = {"digest_time": at, "digest_telegram": True}
        if timezone_name:
            fields["timezone"] = timezone_name
        return self.store.update_subscriber(subscriber_id, **fields)

    def digest_preview(self, subscriber_ref: str | None) -> tuple[DigestContent, Subscriber | None]:
        """What a subscriber's (id or address) email digest would hold now; nothing is recorded."""
        return preview_content(self.store, self.config, subscriber_ref)

    # -- sources -------------------------------------------------------------

    def sync_sources(self) -> None:
        """Bring the stored sources in line with the configured ones."""
        self.store.sync_sources(self.config.source_specs())

    def sources(self, *, active_only: bool = False) -> list[Source]:
        """The stored sources by name, with their poll state."""
        return self.store.list_sources(active_only=active_only)

    def source(self, name: str) -> Source | None:
        """One stored source and its poll state (its next poll carries any back-off)."""
        return self.store.get_source(name)

    def add_source(self, name: str, location: str, topics: Sequence[str] = ()) -> Source:
        """A source added at run time (``/addsource``, an OPML import): polled as ``auto``."""
        return self.store.add_source(name, "adhoc", location, topics)

    def stop_polling(self, name: str) -> bool:
        """Deactivate a source; False when there is none of that name."""
        return self.store.set_source_active(name, False)

    # -- stories -------------------------------------------------------------

    @cached_property
    def stories(self) -> Stories:
        """The story stage, one per App (it holds the NLP models, loaded on first use)."""
        from briefing.stories.service import Stories

        return Stories(self.config, self.store)

    def update_stories(self) -> None:
        """Put new articles into stories and rewrite the briefs of the stories that changed."""
        self.stories.update()

    def story(self, story_id: int) -> StoredStory | None:
        """A story and its current brief."""
        return self.store.get_story(story_id)

    def recent_stories(self, limit: int = 20, min_outlets: int = 1) -> list[StoredStory]:
        """The most recently seen stories reported by at least ``min_outlets`` outlets."""
        return self.store.recent_stories(limit=limit, min_outlets=min_outlets)

    def story_of_article(self, article_id: int) -> int | None:
        """The story an article belongs to; new articles are clustered now to find it."""
        found = self.store.story_of_article(article_id)
        if found is not None:
            return found
        self.update_stories()
        return self.store.story_of_article(article_id)

    def followed_stories(self, subscriber_id: int) -> list[int]:
        """The ids of the stories a subscriber follows."""
        return self.store.followed(subscriber_id)

    def follow_story(self, subscriber_id: int, story_id: int) -> bool:
        """False when already followed."""
        return self.store.follow(subscriber_id, story_id)

    def unfollow_story(self, subscriber_id: int, story_id: int) -> bool:
        """False when not followed."""
        return self.store.unfollow(subscriber_id, story_id)

    def flag_story(self, story_id: int, subscriber_id: int | None, kind: str) -> int:
        """A reader's problem report on a story's brief; its id."""
        return self.stories.flag(story_id, subscriber_id, kind)

    def story_flags(self, status: str | None = "open") -> list[Flag]:
        """Problem reports in one status (None: all)."""
        return self.store.flags(status)

    def recheck_flag(self, flag_id: int) -> list[Notice]:
        """Re-check a reported brief against its articles; the corrections to send (KeyError: no such report)."""
        return self.stories.recheck(flag_id)

    def story_notices(self) -> list[Notice]:
        """Update the stories, then what each follower should be told."""
        self.update_stories()
        return self.stories.notices()

    def story_told(self, notice: Notice) -> bool:
        """Record a notice as sent; False when another sender recorded it first."""
        return self.stories.told(notice)

    # -- delivery and the service's own state --------------------------------

    def pending_deliveries(self, channel: str, limit: int) -> list[PendingDelivery]:
        """Deliveries of a channel waiting to be sent (a dry run logs them)."""
        return self.store.pending_deliveries(channel, limit)

    def reclaim_orphaned_deliveries(self, before: datetime) -> int:
        """Deliveries left claimed by a process that died before ``before``: back to pending."""
        return self.store.reclaim_orphaned_deliveries(before)

    def release_claimed_deliveries(self, claimed_since: datetime) -> int:
        """This process's claimed but unsent deliveries: back to pending (at shutdown)."""
        return self.store.release_claimed_deliveries(claimed_since)

    def record_job_run(self, name: str, *, ran_at: datetime | None, next_run_at: datetime | None,
                       error: str | None) -> None:
        """A scheduled job's last run, next run and error (``briefing status`` shows them)."""
        self.store.record_job_run(name, ran_at=ran_at, next_run_at=next_run_at, error=error)

    def forget_jobs_except(self, names: Collection[str]) -> None:
        """Drop the recorded state of jobs that are no longer scheduled (a removed source's poll)."""
        self.store.forget_jobs_except(names)

    def clear_next_runs(self) -> None:
        """At shutdown: no job has a next run any more (``briefing status`` promises none)."""
        self.store.clear_next_runs()

    def stats(self, now: datetime | None = None) -> BotStats:
        """Counts for the admin's ``/stats``."""
        now = now or utcnow()
        by_active = self.store.subscriber_counts()
        return BotStats(subscribers_active=by_active.get(True, 0), subscribers_inactive=by_active.get(False, 0),
                        subscriptions=self.store.count_subscriptions(),
                        briefs_24h=self.store.count_briefs(since=now - timedelta(hours=24)),
                        deliveries=self.store.delivery_counts())

    def totals(self) -> Totals:
        """Articles, deliveries and digests by status, and the number of briefs (``/metrics``)."""
        return Totals(articles=self.store.article_counts(), deliveries=self.store.delivery_counts(),
                      digests=self.store.digest_counts(), briefs_total=self.store.count_briefs())

    def ping(self) -> None:
        """One cheap query; raises when the database does not answer (``/healthz``)."""
        self.store.count_briefs()

    def status(self, lease_name: str, now: datetime | None = None) -> StatusReport:
        """Sources (synced with the configuration first), queues, today's output, jobs and a lease."""
        now = now or utcnow()
        day_start = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        store = self.store
        self.sync_sources()
        return StatusReport(
            now=now, day_start=day_start, sources=store.list_sources(),
            articles={state: store.count_articles(state) for state in ARTICLE_STATES},
            deliveries=store.delivery_counts(),
            briefs_today=store.count_briefs(since=day_start.astimezone(timezone.utc)),
            digests_today=store.digest_counts(day_start.date().isoformat()),
            jobs=store.job_records(), lease=store.lease(lease_name))
