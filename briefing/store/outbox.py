"""The outbox: deliveries of briefs and daily digests, recorded before anything is sent, then
claimed, sent and settled (issues 2, 5, 8)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, literal, or_, select, update
from sqlalchemy.orm import Session

from briefing import models
from briefing.errors import StoreConflict
from briefing.models import DeliveryMatch
from briefing.store.base import StoreBase, record
from briefing.store.schema import Delivery, Digest, Subscriber, Subscription, UTCDateTime, utcnow
from briefing.store.subscribers import chunks


class Outbox(StoreBase):
    # -- deliveries ------------------------------------------------------------

    def queue_deliveries(self, brief_id: int, targets: Sequence[tuple[int, str]]) -> int:
        """Record pending deliveries of a brief before anything is sent; existing ones are left alone.

        One statement for all targets (INSERT ... ON CONFLICT DO NOTHING on both backends); the
        unique (subscriber, brief, channel) constraint makes it idempotent, so a restart that
        matches the same brief again queues nothing twice. Returns the number of new rows.
        """
        with self.session() as s:
            return self._queue(s, brief_id, targets)

    def queue_matching_deliveries(self, brief_id: int, match: DeliveryMatch) -> int:
        """Queue a pending delivery of a brief to every subscriber ``match`` selects; see
        :func:`queue_matching`. Idempotent like :meth:`queue_deliveries`. Returns new rows."""
        with self.session() as s:
            return queue_matching(s, self._insert(Delivery), brief_id, match)

    def _queue(self, s: Session, brief_id: int, targets: Sequence[tuple[int, str]]) -> int:
        if not targets:
            return 0
        stmt = self._insert(Delivery).on_conflict_do_nothing(index_elements=["subscriber_id", "brief_id", "channel"])
        rows = [{"subscriber_id": sid, "brief_id": brief_id, "channel": channel} for sid, channel in targets]
        count = select(func.count(Delivery.id)).where(Delivery.brief_id == brief_id)
        before = s.scalar(count) or 0
        s.execute(stmt, rows)
        return (s.scalar(count) or 0) - before

    def claim_deliveries(self, channel: str, *, limit: int = 100, now: datetime | None = None,
                         stale_after: timedelta = timedelta(minutes=10)) -> list[models.Delivery]:
        """Take due pending deliveries for sending (status -> ``sending``), oldest first.

        A ``sending`` row older than ``stale_after`` was claimed by a process that died; it is
        claimed again (the window between Telegram accepting a message and us recording it is the
        only place a message could go twice).

        One ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) ... RETURNING``: two
        senders claiming at once get different rows. On PostgreSQL the locked rows are skipped;
        on SQLite the one statement is one write, and the claimable condition is checked again
        in it (a SELECT then an UPDATE let two connections claim the same rows, issue 11).
        """
        now = now or utcnow()
        claimable = (Delivery.channel == channel) & (
            ((Delivery.status == "pending") & (Delivery.next_attempt_at.is_(None) | (Delivery.next_attempt_at <= now)))
            | ((Delivery.status == "sending") & (Delivery.next_attempt_at <= now - stale_after)))
        ids = _locked_ids(select(Delivery.id).where(claimable).order_by(Delivery.id).limit(limit))
        stmt = (update(Delivery).where(Delivery.id.in_(ids), claimable)
                .values(status="sending", next_attempt_at=now, attempts=Delivery.attempts + 1)
                .returning(*Delivery.__table__.columns))
        with self.session() as s:
            rows = s.execute(stmt).all()
            return sorted((record(models.Delivery, row) for row in rows), key=lambda d: d.id)

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

    def deliveries_for(self, subscriber_id: int) -> list[models.Delivery]:
        with self.session() as s:
            q = select(Delivery).where(Delivery.subscriber_id == subscriber_id).order_by(Delivery.id)
            return [record(models.Delivery, row) for row in s.scalars(q)]

    def pending_deliveries(self, channel: str, limit: int) -> list[models.PendingDelivery]:
        """Due pending deliveries, oldest first, without claiming them (for ``--dry-run``)."""
        now = utcnow()
        with self.session() as s:
            q = (select(Delivery.id, Delivery.subscriber_id, Delivery.brief_id, Subscriber.telegram_chat_id)
                 .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                 .where(Delivery.channel == channel, Delivery.status == "pending",
                        Delivery.next_attempt_at.is_(None) | (Delivery.next_attempt_at <= now))
                 .order_by(Delivery.id).limit(limit))
            return [models.PendingDelivery(*row) for row in s.execute(q)]

    def release_deliveries(self, delivery_ids: list[int], reason: str) -> int:
        """Put claimed (``sending``) deliveries that were never attempted back to ``pending``."""
        if not delivery_ids:
            return 0
        with self.session() as s:
            res = s.execute(update(Delivery).where(Delivery.id.in_(delivery_ids), Delivery.status == "sending")
                            .values(status="pending", next_attempt_at=None, last_error=reason,
                                    attempts=Delivery.attempts - 1))
            return res.rowcount

    def release_claimed_deliveries(self, claimed_since: datetime) -> int:
        """Put deliveries this process claimed but did not finish back to ``pending``.

        :meth:`claim_deliveries` stamps ``next_attempt_at`` with the claim time, so rows in
        ``sending`` stamped after this process started are ours (only the lease holder claims).
        """
        with self.session() as s:
            res = s.execute(update(Delivery)
                            .where(Delivery.status == "sending", Delivery.next_attempt_at >= claimed_since)
                            .values(status="pending", next_attempt_at=None))
            return res.rowcount or 0

    def reclaim_orphaned_deliveries(self, before: datetime) -> int:
        """Put deliveries left ``sending`` by an earlier holder of the lease back to ``pending``.

        Called when this process takes the lease at start-up: the earlier holder's lease ran out, so
        it died (SIGKILL, power) or stopped working; what it claimed would otherwise wait for the
        store's ten-minute stale window. Parts it recorded as sent stay recorded, so only the
        missing ones go out (issue 8); a part Telegram accepted in the last milliseconds before the
        crash, before it was recorded, is the one way a message can arrive twice.
        """
        with self.session() as s:
            res = s.execute(update(Delivery)
                            .where(Delivery.status == "sending", Delivery.next_attempt_at < before)
                            .values(status="pending", next_attempt_at=None))
            return res.rowcount or 0

    # -- digests ---------------------------------------------------------------

    def recorded_digests(self, digest_dates: Sequence[str]) -> set[tuple[int, str, str]]:
        """(subscriber, local date, channel) of every digest recorded for these local dates."""
        with self.session() as s:
            rows = s.execute(select(Digest.subscriber_id, Digest.digest_date, Digest.channel)
                             .where(Digest.digest_date.in_(list(digest_dates))))
            return {(sid, day, channel) for sid, day, channel in rows}

    def record_digest(self, **values: Any) -> int | None:
        """Record a digest (columns of ``digests``); None when that subscriber x local date x
        channel is already recorded (a restart, a second run or a second instance)."""
        try:
            with self.session() as s:
                row = Digest(**values)
                s.add(row)
                s.flush()
                return row.id
        except StoreConflict:
            return None

    def digest_period_ends(self, subscriber_ids: Sequence[int]) -> dict[tuple[int, str], datetime]:
        """Where each of these subscribers' last digest on each channel stopped (any status)."""
        out: dict[tuple[int, str], datetime] = {}
        with self.session() as s:
            for ids in chunks(subscriber_ids):
                q = (select(Digest.subscriber_id, Digest.channel, func.max(Digest.period_end))
                     .where(Digest.subscriber_id.in_(ids)).group_by(Digest.subscriber_id, Digest.channel))
                out.update(((sid, channel), end) for sid, channel, end in s.execute(q) if end is not None)
        return out

    def previous_period_end(self, subscriber_id: int, channel: str) -> datetime | None:
        """Where the subscriber's last digest on this channel stopped (any status)."""
        with self.session() as s:
            return s.scalar(select(func.max(Digest.period_end))
                            .where(Digest.subscriber_id == subscriber_id, Digest.channel == channel))

    def claim_digest(self, channels: Sequence[str], now: datetime, stale_after: timedelta, *,
                     digest_id: int | None = None, below: int | None = None,
                     ) -> tuple[models.Digest, models.Subscriber | None] | None:
        """Take the oldest due ``pending`` digest (or a stale ``sending`` one) for sending and, in
        the same transaction, its subscriber as they are now.

        ``digest_id`` claims that digest only if it is due (a primary-key lookup: the run claims
        what it just recorded without sorting every pending digest each time, issue 13);
        ``below`` only looks at digests recorded before that id. ``SKIP LOCKED`` lets two senders
        on PostgreSQL claim different rows at once.
        """
        due = (Digest.status == "pending") & (Digest.next_attempt_at.is_(None) | (Digest.next_attempt_at <= now))
        stale = (Digest.status == "sending") & (Digest.next_attempt_at <= now - stale_after)
        claimable = Digest.channel.in_(list(channels)) & (due | stale)
        q = select(Digest.id).where(claimable)
        if digest_id is not None:
            q = q.where(Digest.id == digest_id)
        if below is not None:
            q = q.where(Digest.id < below)
        first = _locked_ids(q.order_by(Digest.id).limit(1))
        # One UPDATE ... RETURNING that checks the condition again: see claim_deliveries.
        stmt = (update(Digest).where(Digest.id.in_(first), claimable)
                .values(status="sending", next_attempt_at=now, attempts=Digest.attempts + 1)
                .returning(*Digest.__table__.columns))
        with self.session() as s:
            row = s.execute(stmt).first()
            if row is None:
                return None
            sub = s.get(Subscriber, row.subscriber_id)
            return record(models.Digest, row), None if sub is None else record(models.Subscriber, sub)

    def update_digest(self, digest_id: int, **values: object) -> None:
        with self.session() as s:
            row = s.get(Digest, digest_id)
            if row is not None:
                for key, value in values.items():
                    setattr(row, key, value)

    def mark_digest_sent(self, digest: models.Digest, now: datetime) -> None:
        """The digest is sent, and the subscriber's last digest time moves on: one transaction."""
        with self.session() as s:
            s.execute(update(Digest).where(Digest.id == digest.id)
                      .values(status="sent", sent_at=now, last_error=None))
            s.execute(update(Subscriber).where(Subscriber.id == digest.subscriber_id)
                      .values(last_digest_at=digest.period_end))

    def digest_counts(self, digest_date: str | None = None) -> dict[str, int]:
        """Number of digests by status (of one local date when given)."""
        with self.session() as s:
            q = select(Digest.status, func.count(Digest.id))
            if digest_date is not None:
                q = q.where(Digest.digest_date == digest_date)
            return dict(s.execute(q.group_by(Digest.status)).all())


def queue_matching(s: Session, insert: Any, brief_id: int, match: DeliveryMatch) -> int:
    """Queue, with ``insert`` (the backend's INSERT into deliveries), a pending delivery to every
    active subscriber with a Telegram chat who follows one of ``match.topics``, its ``source`` or one of the ``keywords`` the brief mentions (all
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
    stmt = (insert
            .from_select(["subscriber_id", "brief_id", "channel", "status", "attempts", "created_at"], matched)
            .on_conflict_do_nothing(index_elements=["subscriber_id", "brief_id", "channel"])
            .returning(Delivery.id))  # rowcount of INSERT ... SELECT is not reported on every driver
    return len(s.execute(stmt).all())


def _locked_ids(ids: Select[Any]) -> Select[Any]:
    """The rows ``ids`` selects, locked once for the claiming UPDATE (skipping rows another claim holds).

    A materialised CTE, not a sub-select: PostgreSQL may run an ``IN (SELECT ... LIMIT n FOR
    UPDATE SKIP LOCKED)`` sub-select again for each row it updates, and each run skips the rows
    the statement has just updated and takes the next n, so one claim took every due row and a
    second sender got none (found by tests/test_claim_race.py). The CTE runs once.
    """
    claimed = ids.with_for_update(skip_locked=True).cte("claimed").prefix_with("MATERIALIZED", dialect="postgresql")
    return select(claimed.c.id)
