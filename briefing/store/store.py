"""The library's storage API. Every stage talks to the database through :class:`Store`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from briefing.config import SourceConfig
from briefing.models import Actor, ArticleDraft, Brief
from briefing.store.db import make_engine, upgrade
from briefing.store.schema import Article, BriefRow, Delivery, Source, Subscriber, Subscription, utcnow

SUBSCRIPTION_KINDS = ("topic", "source", "keyword")


class Store:
    """A database opened at the newest schema."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> "Store":
        engine = make_engine(url)
        upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    # -- sources -----------------------------------------------------------

    def sync_sources(self, configs: Sequence[SourceConfig]) -> None:
        """Make the sources table match the config; sources no longer configured go inactive."""
        names = {c.name for c in configs}
        with self.session() as s:
            existing = {row.name: row for row in s.scalars(select(Source))}
            for cfg in configs:
                row = existing.get(cfg.name)
                if row is None:
                    s.add(Source(name=cfg.name, kind=cfg.kind, location=cfg.location,
                                 topics=list(cfg.topics), active=cfg.enabled))
                    continue
                if (row.kind, row.location) != (cfg.kind, cfg.location):
                    row.etag = row.last_modified = None  # a new location has no validators yet
                row.kind, row.location, row.topics, row.active = cfg.kind, cfg.location, list(cfg.topics), cfg.enabled
            for name, row in existing.items():
                if name not in names and row.kind != "adhoc":
                    row.active = False

    def add_source(self, name: str, kind: str, location: str, topics: Sequence[str] = ()) -> Source:
        with self.session() as s:
            row = s.scalar(select(Source).where(Source.name == name))
            if row is None:
                row = Source(name=name, kind=kind, location=location, topics=list(topics), active=True)
                s.add(row)
            else:
                row.kind, row.location, row.active = kind, location, True
            s.flush()
            return row

    def get_source(self, name: str) -> Source | None:
        with self.session() as s:
            return s.scalar(select(Source).where(Source.name == name))

    def list_sources(self, active_only: bool = False) -> list[Source]:
        with self.session() as s:
            q = select(Source).order_by(Source.name)
            if active_only:
                q = q.where(Source.active.is_(True))
            return list(s.scalars(q))

    def source_topics(self, source_id: int) -> list[str]:
        with self.session() as s:
            return list(s.scalar(select(Source.topics).where(Source.id == source_id)) or [])

    def set_source_active(self, name: str, active: bool) -> bool:
        with self.session() as s:
            res = s.execute(update(Source).where(Source.name == name).values(active=active))
            return res.rowcount > 0

    def record_poll_success(self, name: str, *, etag: str | None, last_modified: str | None,
                            next_poll_at: datetime) -> None:
        with self.session() as s:
            row = s.scalar(select(Source).where(Source.name == name))
            if row is None:
                return
            now = utcnow()
            row.last_polled_at = row.last_success_at = now
            row.etag, row.last_modified = etag, last_modified
            row.next_poll_at = next_poll_at
            row.consecutive_failures = 0
            row.last_error = None

    def record_poll_failure(self, name: str, error: str, *, backoff_base: float, backoff_max: float,
                            permanent: bool = False) -> datetime:
        """Record a failed poll and schedule the retry with exponential back-off.

        A ``permanent`` failure (404, 410, a refused URL, an oversized body) will not fix itself
        soon: the next try waits the longest back-off at once, but the source is not given up on.
        """
        with self.session() as s:
            row = s.scalar(select(Source).where(Source.name == name))
            now = utcnow()
            if row is None:
                return now
            row.last_polled_at = now
            row.last_error = error[:2000]
            row.failure_count += 1
            row.consecutive_failures += 1
            delay = backoff_max if permanent else min(backoff_max, backoff_base * 2 ** (row.consecutive_failures - 1))
            row.next_poll_at = now + timedelta(seconds=delay)
            return row.next_poll_at

    # -- articles ----------------------------------------------------------

    def seen_url(self, url: str) -> bool:
        with self.session() as s:
            return s.scalar(select(Article.id).where(Article.url == url)) is not None

    def seen_hash(self, content_hash: str) -> bool:
        with self.session() as s:
            return s.scalar(select(Article.id).where(Article.content_hash == content_hash)) is not None

    def recent_fingerprints(self, since: datetime) -> list[tuple[int, list[int]]]:
        """(id, fingerprint) of original articles fetched since ``since``, for near-duplicate checks."""
        with self.session() as s:
            q = select(Article.id, Article.fingerprint).where(
                Article.fetched_at >= since, Article.duplicate_of.is_(None))
            return [(i, fp) for i, fp in s.execute(q)]

    def add_article(self, draft: ArticleDraft, *, source_name: str | None, fingerprint: list[int],
                    duplicate_of: int | None = None) -> Article | None:
        """Insert an article; returns None when its URL or text is already stored (a race lost)."""
        with self._sessions() as s:
            try:
                with s.begin():
                    source_id = None
                    if source_name:
                        source_id = s.scalar(select(Source.id).where(Source.name == source_name))
                    row = Article(
                        source_id=source_id, url=draft.url, title=draft.title, text=draft.text,
                        published_at=draft.published, content_hash=draft.content_hash,
                        fingerprint=fingerprint,
                        status="duplicate" if duplicate_of else "new", duplicate_of=duplicate_of)
                    s.add(row)
                return row
            except IntegrityError:
                return None

    def get_article(self, article_id: int) -> Article | None:
        with self.session() as s:
            return s.get(Article, article_id)

    def pending_articles(self, limit: int = 100) -> list[Article]:
        with self.session() as s:
            q = select(Article).where(Article.status == "new").order_by(Article.id).limit(limit)
            return list(s.scalars(q))

    def mark_article_failed(self, article_id: int, error: str) -> None:
        with self.session() as s:
            row = s.get(Article, article_id)
            if row is not None:
                row.status, row.error = "failed", error[:2000]
                row.attempts += 1

    def count_articles(self, status: str | None = None) -> int:
        with self.session() as s:
            q = select(func.count(Article.id))
            if status:
                q = q.where(Article.status == status)
            return s.scalar(q) or 0

    def duplicate_counts(self, article_ids: Sequence[int]) -> dict[int, int]:
        """How many near-duplicates (other sources) each article has."""
        if not article_ids:
            return {}
        with self.session() as s:
            q = (select(Article.duplicate_of, func.count(Article.id))
                 .where(Article.duplicate_of.in_(list(article_ids))).group_by(Article.duplicate_of))
            return {k: v for k, v in s.execute(q)}

    # -- briefs ------------------------------------------------------------

    def save_brief(self, article_id: int, brief: Brief, cache_key: str) -> int:
        """Store (or replace) the brief of an article and mark the article summarised."""
        with self.session() as s:
            row = s.scalar(select(BriefRow).where(BriefRow.article_id == article_id))
            values = dict(
                headline=brief.headline, summary=list(brief.summary),
                actors=[a.__dict__ for a in brief.actors], topics=list(brief.topics),
                engine=brief.engine, model=brief.model, grounding_score=brief.grounding_score,
                flags=list(brief.flags), gist=brief.gist or None, cache_key=cache_key)
            if row is None:
                row = BriefRow(article_id=article_id, **values)
                s.add(row)
            else:
                for k, v in values.items():
                    setattr(row, k, v)
            article = s.get(Article, article_id)
            if article is not None:
                article.status, article.error = "summarised", None
            s.flush()
            return row.id

    def brief_by_cache_key(self, cache_key: str) -> Brief | None:
        with self.session() as s:
            row = s.scalar(select(BriefRow).where(BriefRow.cache_key == cache_key).limit(1))
            return None if row is None else _brief(row, s.get(Article, row.article_id))

    def get_brief(self, brief_id: int) -> Brief | None:
        with self.session() as s:
            q = (select(BriefRow, Article, Source.name).join(Article, Article.id == BriefRow.article_id)
                 .outerjoin(Source, Source.id == Article.source_id).where(BriefRow.id == brief_id))
            found = s.execute(q).first()
            return None if found is None else _brief(*found)

    def list_briefs(self, *, since: datetime | None = None, topic: str | None = None,
                    limit: int | None = None, newest_first: bool = True) -> list[tuple[int, Brief]]:
        """(brief id, brief) pairs, optionally since a time and for one topic."""
        with self.session() as s:
            q = (select(BriefRow, Article, Source.name).join(Article, Article.id == BriefRow.article_id)
                 .outerjoin(Source, Source.id == Article.source_id))
            if since is not None:
                q = q.where(BriefRow.created_at >= since)
            order = BriefRow.id.desc() if newest_first else BriefRow.id
            q = q.order_by(order)
            out = [(row.id, _brief(row, art, src)) for row, art, src in s.execute(q)]
        if topic:
            t = topic.casefold()
            out = [(i, b) for i, b in out if t in (x.casefold() for x in b.topics)]
        return out[:limit] if limit else out

    def count_briefs(self, since: datetime | None = None) -> int:
        with self.session() as s:
            q = select(func.count(BriefRow.id))
            if since is not None:
                q = q.where(BriefRow.created_at >= since)
            return s.scalar(q) or 0

    # -- subscribers and subscriptions -------------------------------------

    def telegram_subscriber(self, chat_id: int, *, user_id: int | None = None,
                            display_name: str | None = None) -> Subscriber:
        """The subscriber of a Telegram chat, created (or re-activated) on first contact."""
        with self.session() as s:
            row = s.scalar(select(Subscriber).where(Subscriber.telegram_chat_id == chat_id))
            if row is None:
                row = Subscriber(telegram_chat_id=chat_id, telegram_user_id=user_id, display_name=display_name)
                s.add(row)
            else:
                row.active, row.deactivated_reason = True, None
                row.display_name = display_name or row.display_name
                row.telegram_user_id = user_id or row.telegram_user_id
            s.flush()
            return row

    def subscriber_by_chat(self, chat_id: int) -> Subscriber | None:
        with self.session() as s:
            return s.scalar(select(Subscriber).where(Subscriber.telegram_chat_id == chat_id))

    def subscriber_by_email(self, email: str) -> Subscriber | None:
        with self.session() as s:
            return s.scalar(select(Subscriber).where(func.lower(Subscriber.email) == email.lower()))

    def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        with self.session() as s:
            return s.get(Subscriber, subscriber_id)

    def update_subscriber(self, subscriber_id: int, **fields: object) -> Subscriber | None:
        """Set plain columns of a subscriber (e.g. ``timezone``, ``digest_time``, ``email``)."""
        with self.session() as s:
            row = s.get(Subscriber, subscriber_id)
            if row is None:
                return None
            for key, value in fields.items():
                if key not in Subscriber.__table__.columns or key == "id":
                    raise ValueError(f"subscribers has no column {key!r}")
                setattr(row, key, value)
            return row

    def deactivate_subscriber(self, subscriber_id: int, reason: str) -> None:
        """Stop sending to a subscriber (blocked the bot, chat gone, /stop); pending deliveries are dropped."""
        with self.session() as s:
            row = s.get(Subscriber, subscriber_id)
            if row is None:
                return
            row.active, row.deactivated_reason = False, reason[:500]
            s.execute(update(Delivery).where(Delivery.subscriber_id == subscriber_id,
                                             Delivery.status.in_(("pending", "sending")))
                      .values(status="failed", last_error=f"subscriber deactivated: {reason}"[:2000]))

    def delete_subscriber(self, subscriber_id: int) -> None:
        """Delete a subscriber and everything stored about them (subscriptions, deliveries)."""
        with self.session() as s:
            for model in (Delivery, Subscription):
                s.execute(model.__table__.delete().where(model.subscriber_id == subscriber_id))
            row = s.get(Subscriber, subscriber_id)
            if row is not None:
                s.delete(row)

    def active_subscribers(self) -> list[Subscriber]:
        with self.session() as s:
            return list(s.scalars(select(Subscriber).where(Subscriber.active.is_(True)).order_by(Subscriber.id)))

    def subscribe(self, subscriber_id: int, kind: str, value: str) -> bool:
        """Follow a topic, source or keyword; False if already followed."""
        if kind not in SUBSCRIPTION_KINDS:
            raise ValueError(f"subscription kind must be one of {SUBSCRIPTION_KINDS}, got {kind!r}")
        value = " ".join(value.split()).casefold()
        with self._sessions() as s:
            try:
                with s.begin():
                    s.add(Subscription(subscriber_id=subscriber_id, kind=kind, value=value))
                return True
            except IntegrityError:
                return False

    def unsubscribe(self, subscriber_id: int, kind: str | None, value: str) -> int:
        """Stop following; ``kind=None`` removes the value whatever its kind. Returns rows removed."""
        value = " ".join(value.split()).casefold()
        with self.session() as s:
            q = Subscription.__table__.delete().where(Subscription.subscriber_id == subscriber_id,
                                                      Subscription.value == value)
            if kind:
                q = q.where(Subscription.kind == kind)
            return s.execute(q).rowcount

    def subscriptions(self, subscriber_id: int) -> list[Subscription]:
        with self.session() as s:
            q = select(Subscription).where(Subscription.subscriber_id == subscriber_id).order_by(
                Subscription.kind, Subscription.value)
            return list(s.scalars(q))

    def all_subscriptions(self) -> dict[int, list[Subscription]]:
        """Subscriptions of active subscribers, by subscriber id."""
        with self.session() as s:
            q = (select(Subscription).join(Subscriber, Subscriber.id == Subscription.subscriber_id)
                 .where(Subscriber.active.is_(True)))
            out: dict[int, list[Subscription]] = {}
            for sub in s.scalars(q):
                out.setdefault(sub.subscriber_id, []).append(sub)
            return out

    # -- deliveries ----------------------------------------------------------

    def queue_deliveries(self, brief_id: int, targets: Sequence[tuple[int, str]]) -> int:
        """Record pending deliveries of a brief before anything is sent; existing ones are left alone.

        One statement for all targets (INSERT ... ON CONFLICT DO NOTHING on both backends); the
        unique (subscriber, brief, channel) constraint makes it idempotent, so a restart that
        matches the same brief again queues nothing twice. Returns the number of new rows.
        """
        if not targets:
            return 0
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(Delivery).on_conflict_do_nothing(index_elements=["subscriber_id", "brief_id", "channel"])
        rows = [{"subscriber_id": sid, "brief_id": brief_id, "channel": channel} for sid, channel in targets]
        count = select(func.count(Delivery.id)).where(Delivery.brief_id == brief_id)
        with self.session() as s:
            before = s.scalar(count) or 0
            s.execute(stmt, rows)
            return (s.scalar(count) or 0) - before

    def chat_subscriber_ids(self, subscriber_ids: Sequence[int]) -> set[int]:
        """Those of the given subscribers that have a Telegram chat."""
        if not subscriber_ids:
            return set()
        with self.session() as s:
            q = select(Subscriber.id).where(Subscriber.id.in_(list(subscriber_ids)),
                                            Subscriber.telegram_chat_id.is_not(None))
            return set(s.scalars(q))

    def claim_deliveries(self, channel: str, *, limit: int = 100, now: datetime | None = None,
                         stale_after: timedelta = timedelta(minutes=10)) -> list[Delivery]:
        """Take due pending deliveries for sending (status -> ``sending``), oldest first.

        A ``sending`` row older than ``stale_after`` was claimed by a process that died; it is
        claimed again (the window between Telegram accepting a message and us recording it is the
        only place a message could go twice).
        """
        now = now or utcnow()
        with self.session() as s:
            due = (Delivery.status == "pending") & (
                Delivery.next_attempt_at.is_(None) | (Delivery.next_attempt_at <= now))
            stale = (Delivery.status == "sending") & (Delivery.next_attempt_at <= now - stale_after)
            q = (select(Delivery).where(Delivery.channel == channel, due | stale)
                 .order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True))
            rows = list(s.scalars(q))
            for row in rows:
                row.status, row.next_attempt_at = "sending", now
                row.attempts += 1
            return rows

    def mark_delivery_sent(self, delivery_id: int, external_id: str | None = None) -> None:
        with self.session() as s:
            row = s.get(Delivery, delivery_id)
            if row is not None:
                row.status, row.sent_at, row.external_id, row.last_error = "sent", utcnow(), external_id, None

    def mark_delivery_retry(self, delivery_id: int, error: str, retry_at: datetime) -> None:
        with self.session() as s:
            row = s.get(Delivery, delivery_id)
            if row is not None:
                row.status, row.last_error, row.next_attempt_at = "pending", error[:2000], retry_at

    def mark_delivery_failed(self, delivery_id: int, error: str) -> None:
        with self.session() as s:
            row = s.get(Delivery, delivery_id)
            if row is not None:
                row.status, row.last_error = "failed", error[:2000]

    def delivery_counts(self) -> dict[str, int]:
        """Number of deliveries by status."""
        with self.session() as s:
            q = select(Delivery.status, func.count(Delivery.id)).group_by(Delivery.status)
            return {k: v for k, v in s.execute(q)}

    def deliveries_for(self, subscriber_id: int) -> list[Delivery]:
        with self.session() as s:
            q = select(Delivery).where(Delivery.subscriber_id == subscriber_id).order_by(Delivery.id)
            return list(s.scalars(q))


def _brief(row: BriefRow, article: Article | None, source: str | None = None) -> Brief:
    return Brief(
        headline=row.headline, summary=list(row.summary),
        actors=[Actor(**a) for a in row.actors], engine=row.engine, model=row.model,
        topics=list(row.topics or []), url=article.url if article else None,
        published=(article.published_at or article.fetched_at) if article else None,
        source=source, grounding_score=row.grounding_score, flags=list(row.flags or []), gist=row.gist or "")
