"""The library's storage API. Every stage talks to the database through :class:`Store`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from briefing.config import SourceConfig
from briefing.errors import StoreBusy
from briefing.models import Actor, ArticleDraft, Brief, DeliveryMatch
from briefing.store.db import make_engine, upgrade
from briefing.store.schema import (
    Article,
    BriefRow,
    Delivery,
    Source,
    Subscriber,
    Subscription,
    UTCDateTime,
    utcnow,
)

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
        """One transaction: committed at the end, rolled back on any error.

        A locked or unreachable database (SQLite "database is locked" after the busy timeout, a
        dropped PostgreSQL connection) is raised as :class:`StoreBusy`, which
        :func:`briefing.errors.classify` reads as "retry later": nothing was written (issue 8).
        """
        try:
            with self._sessions() as session, session.begin():
                yield session
        except OperationalError as exc:
            raise StoreBusy(f"database busy or unreachable, try again later: {exc.orig or exc}") from exc

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

    def fingerprints_after(self, after_id: int, since: datetime) -> list[tuple[int, list[int], datetime]]:
        """(id, fingerprint, fetched_at) of original articles with id > ``after_id`` fetched since
        ``since``: what a near-duplicate index has not seen yet (a primary-key range)."""
        with self.session() as s:
            q = (select(Article.id, Article.fingerprint, Article.fetched_at)
                 .where(Article.id > after_id, Article.fetched_at >= since, Article.duplicate_of.is_(None))
                 .order_by(Article.id))
            return [(i, fp or [], t) for i, fp, t in s.execute(q)]

    def add_article(self, draft: ArticleDraft, *, source_name: str | None, fingerprint: list[int],
                    duplicate_of: int | None = None, status: str | None = None) -> Article | None:
        """Insert an article; returns None when its URL or text is already stored (a race lost).

        ``status`` defaults to ``new`` (``duplicate`` with ``duplicate_of``); ``filtered`` keeps
        an article a source's filters left out, so it is neither fetched again nor summarised.
        """
        try:
            with self.session() as s:
                source_id = None
                if source_name:
                    source_id = s.scalar(select(Source.id).where(Source.name == source_name))
                row = Article(
                    source_id=source_id, url=draft.url, title=draft.title, text=draft.text,
                    published_at=draft.published, content_hash=draft.content_hash,
                    fingerprint=fingerprint,
                    status=status or ("duplicate" if duplicate_of else "new"), duplicate_of=duplicate_of)
                s.add(row)
            return row
        except IntegrityError:
            return None

    def get_article(self, article_id: int) -> Article | None:
        with self.session() as s:
            return s.get(Article, article_id)

    def pending_articles(self, limit: int = 100) -> list[Article]:
        """Articles waiting for a brief, taken round-robin over sources (oldest first within each),
        so one flooded source cannot delay every other source's briefs (issue 8)."""
        with self.session() as s:
            turn = (func.row_number().over(partition_by=Article.source_id, order_by=Article.id)
                    .label("turn"))
            ranked = select(Article.id, turn).where(Article.status == "new").subquery()
            q = (select(Article).join(ranked, ranked.c.id == Article.id)
                 .order_by(ranked.c.turn, Article.id).limit(limit))
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

    def save_brief(self, article_id: int, brief: Brief, cache_key: str,
                   deliver_to: DeliveryMatch | None = None) -> int:
        """Store (or replace) the brief of an article, mark the article summarised, and queue its
        deliveries to the subscribers ``deliver_to`` matches: all in ONE transaction.

        The invariant of issue 8: an article is either not summarised, or summarised with all its
        deliveries queued, whatever moment the process dies at or whatever the database says.
        """
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
            if deliver_to is not None:
                self._queue_matching(s, row.id, deliver_to)
            return row.id

    def brief_created_at(self, brief_id: int) -> datetime | None:
        with self.session() as s:
            return s.scalar(select(BriefRow.created_at).where(BriefRow.id == brief_id))

    def source_name(self, source_id: int | None) -> str | None:
        if source_id is None:
            return None
        with self.session() as s:
            return s.scalar(select(Source.name).where(Source.id == source_id))

    def briefs_without_deliveries(self, since: datetime) -> list[int]:
        """Briefs written since ``since`` that have no delivery row at all (oldest first).

        Before issue 8 a brief and its deliveries were two transactions; a crash between them left
        such briefs. The service re-matches them at start-up (``App.heal_deliveries``).
        """
        with self.session() as s:
            q = (select(BriefRow.id).where(BriefRow.created_at >= since,
                                           ~select(Delivery.id).where(Delivery.brief_id == BriefRow.id).exists())
                 .order_by(BriefRow.id))
            return list(s.scalars(q))

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

    def get_briefs(self, brief_ids: Sequence[int]) -> dict[int, Brief]:
        """The briefs with these ids that exist, by id, in ONE query (no per-brief round trip)."""
        if not brief_ids:
            return {}
        with self.session() as s:
            q = (select(BriefRow, Article, Source.name).join(Article, Article.id == BriefRow.article_id)
                 .outerjoin(Source, Source.id == Article.source_id).where(BriefRow.id.in_(sorted(set(brief_ids)))))
            return {row.id: _brief(row, art, src) for row, art, src in s.execute(q)}

    def list_briefs(self, *, since: datetime | None = None, topic: str | None = None,
                    limit: int | None = None, newest_first: bool = True) -> list[tuple[int, Brief]]:
        """(brief id, brief) pairs, optionally since a time and for one topic (case-insensitive).

        Filtering, ordering and the limit happen in SQL, so ``--limit 5`` reads five rows
        whatever the size of the table.
        """
        with self.session() as s:
            q = (select(BriefRow, Article, Source.name).join(Article, Article.id == BriefRow.article_id)
                 .outerjoin(Source, Source.id == Article.source_id))
            if since is not None:
                q = q.where(BriefRow.created_at >= since)
            if topic:
                q = q.where(self._has_topic(topic))
            q = q.order_by(BriefRow.id.desc() if newest_first else BriefRow.id)
            if limit:
                q = q.limit(limit)
            return [(row.id, _brief(row, art, src)) for row, art, src in s.execute(q)]

    def _has_topic(self, topic: str) -> ColumnElement[bool]:
        """``briefs.topics`` (a JSON list) holds ``topic``, compared case-insensitively, in SQL."""
        wanted = topic.casefold()
        if self.engine.dialect.name == "postgresql":
            elements = func.json_array_elements_text(BriefRow.topics).table_valued("value").alias("t")
        else:
            elements = func.json_each(BriefRow.topics).table_valued("value").alias("t")
        return exists(select(1).select_from(elements).where(func.lower(elements.c.value) == wanted))

    def count_briefs(self, since: datetime | None = None) -> int:
        with self.session() as s:
            q = select(func.count(BriefRow.id))
            if since is not None:
                q = q.where(BriefRow.created_at >= since)
            return s.scalar(q) or 0

    # -- subscribers and subscriptions -------------------------------------

    def telegram_subscriber(self, chat_id: int, *, user_id: int | None = None,
                            display_name: str | None = None) -> Subscriber:
        """The subscriber of a Telegram chat, created (or re-activated) on first contact.

        An idempotent upsert (INSERT ... ON CONFLICT DO NOTHING, then update): two updates from a
        new chat handled at once (/start and /subscribe back to back, or a replayed backlog) both
        get the one row instead of one of them failing on the unique chat id (issue 8, row 7).
        """
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        with self.session() as s:
            s.execute(insert(Subscriber).values(
                telegram_chat_id=chat_id, telegram_user_id=user_id, display_name=display_name, active=True,
                email_verified=False, timezone="UTC", digest_telegram=False, created_at=utcnow(),
            ).on_conflict_do_nothing(index_elements=["telegram_chat_id"]))
            row = s.scalar(select(Subscriber).where(Subscriber.telegram_chat_id == chat_id))
            assert row is not None
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
        try:
            with self.session() as s:
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
        with self.session() as s:
            return self._queue(s, brief_id, targets)

    def _queue(self, s: Session, brief_id: int, targets: Sequence[tuple[int, str]]) -> int:
        if not targets:
            return 0
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(Delivery).on_conflict_do_nothing(index_elements=["subscriber_id", "brief_id", "channel"])
        rows = [{"subscriber_id": sid, "brief_id": brief_id, "channel": channel} for sid, channel in targets]
        count = select(func.count(Delivery.id)).where(Delivery.brief_id == brief_id)
        before = s.scalar(count) or 0
        s.execute(stmt, rows)
        return (s.scalar(count) or 0) - before

    def subscription_values(self, kind: str) -> list[str]:
        """The distinct values active subscribers follow as ``kind`` (e.g. every keyword once)."""
        with self.session() as s:
            q = (select(Subscription.value).distinct().join(Subscriber, Subscriber.id == Subscription.subscriber_id)
                 .where(Subscription.kind == kind, Subscriber.active.is_(True)))
            return list(s.scalars(q))

    def queue_matching_deliveries(self, brief_id: int, match: DeliveryMatch) -> int:
        """Queue a pending delivery of a brief to every subscriber ``match`` selects; see
        :meth:`_queue_matching`. Idempotent like :meth:`queue_deliveries`. Returns new rows."""
        with self.session() as s:
            return self._queue_matching(s, brief_id, match)

    def _queue_matching(self, s: Session, brief_id: int, match: DeliveryMatch) -> int:
        """Queue a pending delivery to every active subscriber with a Telegram chat who follows one
        of ``match.topics``, its ``source`` or one of the ``keywords`` the brief mentions (all
        casefolded, as subscriptions are stored), through subscriptions made no later than
        ``match.subscribed_before`` when given. One INSERT ... SELECT ... ON CONFLICT DO NOTHING:
        matched and written in the database, in the caller's transaction (issues 8 and 13).
        """
        wanted = [(Subscription.kind == "topic") & Subscription.value.in_(list(match.topics)) if match.topics else None,
                  (Subscription.kind == "source") & (Subscription.value == match.source) if match.source else None,
                  (Subscription.kind == "keyword") & Subscription.value.in_(list(match.keywords))
                  if match.keywords else None]
        conditions = [c for c in wanted if c is not None]
        if not conditions:
            return 0
        where = [Subscriber.active.is_(True), Subscriber.telegram_chat_id.is_not(None), or_(*conditions)]
        if match.subscribed_before is not None:
            where.append(Subscription.created_at <= match.subscribed_before)
        matched = (select(Subscription.subscriber_id, literal(brief_id), literal(match.channel), literal("pending"),
                          literal(0), literal(utcnow(), UTCDateTime()))
                   .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
                   .where(*where)
                   .distinct())
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        stmt = (insert(Delivery)
                .from_select(["subscriber_id", "brief_id", "channel", "status", "attempts", "created_at"], matched)
                .on_conflict_do_nothing(index_elements=["subscriber_id", "brief_id", "channel"])
                .returning(Delivery.id))  # rowcount of INSERT ... SELECT is not reported on every driver
        return len(s.execute(stmt).all())

    def active_chats(self, subscriber_ids: Sequence[int]) -> dict[int, int]:
        """Telegram chat id of each of these subscribers that is active and has a chat, in one query."""
        if not subscriber_ids:
            return {}
        with self.session() as s:
            q = select(Subscriber.id, Subscriber.telegram_chat_id).where(
                Subscriber.id.in_(sorted(set(subscriber_ids))), Subscriber.active.is_(True),
                Subscriber.telegram_chat_id.is_not(None))
            return {sid: chat for sid, chat in s.execute(q)}

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
        with self.session() as s:  # one statement: this runs once per message sent
            s.execute(update(Delivery).where(Delivery.id == delivery_id)
                      .values(status="sent", sent_at=utcnow(), external_id=external_id, last_error=None))

    def record_delivery_parts(self, delivery_id: int, external_id: str) -> None:
        """Record the message ids of the parts of a split message sent so far (issue 8, row 4)."""
        with self.session() as s:
            s.execute(update(Delivery).where(Delivery.id == delivery_id).values(external_id=external_id))

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
