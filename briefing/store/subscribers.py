"""Subscribers, what they follow, and their email addresses' verification codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from briefing import models
from briefing.errors import StoreConflict
from briefing.models import CodeCheck
from briefing.store.base import StoreBase, record
from briefing.store.schema import Delivery, EmailCode, Subscriber, Subscription, utcnow

SUBSCRIPTION_KINDS = ("topic", "source", "keyword")


class Subscribers(StoreBase):
    def telegram_subscriber(self, chat_id: int, *, user_id: int | None = None,
                            display_name: str | None = None) -> models.Subscriber:
        """The subscriber of a Telegram chat, created (or re-activated) on first contact.

        An idempotent upsert (INSERT ... ON CONFLICT DO NOTHING, then update): two updates from a
        new chat handled at once (/start and /subscribe back to back, or a replayed backlog) both
        get the one row instead of one of them failing on the unique chat id (issue 8, row 7).
        """
        with self.session() as s:
            s.execute(self._insert(Subscriber).values(
                telegram_chat_id=chat_id, telegram_user_id=user_id, display_name=display_name, active=True,
                email_verified=False, timezone="UTC", digest_telegram=False, created_at=utcnow(),
            ).on_conflict_do_nothing(index_elements=["telegram_chat_id"]))
            row = s.scalar(select(Subscriber).where(Subscriber.telegram_chat_id == chat_id))
            assert row is not None
            row.active, row.deactivated_reason = True, None
            row.display_name = display_name or row.display_name
            row.telegram_user_id = user_id or row.telegram_user_id
            s.flush()
            return record(models.Subscriber, row)

    def subscriber_by_chat(self, chat_id: int) -> models.Subscriber | None:
        with self.session() as s:
            return _plain(s.scalar(select(Subscriber).where(Subscriber.telegram_chat_id == chat_id)))

    def subscriber_by_email(self, email: str) -> models.Subscriber | None:
        with self.session() as s:
            return _plain(s.scalar(select(Subscriber).where(func.lower(Subscriber.email) == email.lower())))

    def get_subscriber(self, subscriber_id: int) -> models.Subscriber | None:
        with self.session() as s:
            return _plain(s.get(Subscriber, subscriber_id))

    def update_subscriber(self, subscriber_id: int, **fields: object) -> models.Subscriber | None:
        """Set plain columns of a subscriber (e.g. ``timezone``, ``digest_time``, ``email``).

        A value another subscriber already has (a chat id, an address) raises :class:`StoreConflict`.
        """
        with self.session() as s:
            row = s.get(Subscriber, subscriber_id)
            if row is None:
                return None
            for key, value in fields.items():
                if key not in Subscriber.__table__.columns or key == "id":
                    raise ValueError(f"subscribers has no column {key!r}")
                setattr(row, key, value)
            s.flush()
            return record(models.Subscriber, row)

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

    def active_subscribers(self) -> list[models.Subscriber]:
        with self.session() as s:
            q = select(Subscriber).where(Subscriber.active.is_(True)).order_by(Subscriber.id)
            return [record(models.Subscriber, row) for row in s.scalars(q)]

    def subscribe(self, subscriber_id: int, kind: str, value: str) -> bool:
        """Follow a topic, source or keyword; False if already followed."""
        if kind not in SUBSCRIPTION_KINDS:
            raise ValueError(f"subscription kind must be one of {SUBSCRIPTION_KINDS}, got {kind!r}")
        value = " ".join(value.split()).casefold()
        try:
            with self.session() as s:
                s.add(Subscription(subscriber_id=subscriber_id, kind=kind, value=value))
            return True
        except StoreConflict:
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

    def subscriptions(self, subscriber_id: int) -> list[models.Subscription]:
        with self.session() as s:
            q = select(Subscription).where(Subscription.subscriber_id == subscriber_id).order_by(
                Subscription.kind, Subscription.value)
            return [record(models.Subscription, row) for row in s.scalars(q)]

    def subscriptions_of(self, subscriber_ids: Sequence[int]) -> dict[int, list[models.Subscription]]:
        """These subscribers' subscriptions, each in :meth:`subscriptions`' order, in a few queries."""
        out: dict[int, list[models.Subscription]] = {}
        with self.session() as s:
            for ids in chunks(subscriber_ids):
                q = (select(Subscription).where(Subscription.subscriber_id.in_(ids))
                     .order_by(Subscription.subscriber_id, Subscription.kind, Subscription.value))
                for row in s.scalars(q):
                    out.setdefault(row.subscriber_id, []).append(record(models.Subscription, row))
        return out

    def all_subscriptions(self) -> dict[int, list[models.Subscription]]:
        """Subscriptions of active subscribers, by subscriber id."""
        with self.session() as s:
            q = (select(Subscription).join(Subscriber, Subscriber.id == Subscription.subscriber_id)
                 .where(Subscriber.active.is_(True)))
            out: dict[int, list[models.Subscription]] = {}
            for sub in s.scalars(q):
                out.setdefault(sub.subscriber_id, []).append(record(models.Subscription, sub))
            return out

    def subscription_values(self, kind: str) -> list[str]:
        """The distinct values active subscribers follow as ``kind`` (e.g. every keyword once)."""
        with self.session() as s:
            q = (select(Subscription.value).distinct().join(Subscriber, Subscriber.id == Subscription.subscriber_id)
                 .where(Subscription.kind == kind, Subscriber.active.is_(True)))
            return list(s.scalars(q))

    def active_chats(self, subscriber_ids: Sequence[int]) -> dict[int, int]:
        """Telegram chat id of each of these subscribers that is active and has a chat, in one query."""
        if not subscriber_ids:
            return {}
        with self.session() as s:
            q = select(Subscriber.id, Subscriber.telegram_chat_id).where(
                Subscriber.id.in_(sorted(set(subscriber_ids))), Subscriber.active.is_(True),
                Subscriber.telegram_chat_id.is_not(None))
            return {sid: chat for sid, chat in s.execute(q)}

    def subscriber_counts(self) -> dict[bool, int]:
        """Number of subscribers, active (True) and not (False)."""
        with self.session() as s:
            q = select(Subscriber.active, func.count(Subscriber.id)).group_by(Subscriber.active)
            return dict(s.execute(q).all())

    def count_subscriptions(self) -> int:
        with self.session() as s:
            return s.scalar(select(func.count(Subscription.id))) or 0

    # -- email addresses -------------------------------------------------------

    def save_email_subscriber(self, email: str, *, timezone_name: str | None, digest_time: str | None,
                              default_digest_time: str) -> tuple[int, bool]:
        """Make the owner of ``email`` (created if none) an active, verified email subscriber, with
        this zone and digest time (or the ones they have, or the defaults). Returns (id, created)."""
        with self.session() as s:
            row = s.scalar(select(Subscriber).where(func.lower(Subscriber.email) == email.lower()))
            created = row is None
            if row is None:
                row = Subscriber(email=email)
                s.add(row)
            row.email_verified, row.active, row.deactivated_reason = True, True, None
            row.timezone = timezone_name or row.timezone or "UTC"
            row.digest_time = digest_time or row.digest_time or default_digest_time
            s.flush()
            return row.id, created

    def new_email_code(self, subscriber_id: int, email: str, code_hash: str, *, now: datetime,
                       expires_at: datetime, resend_after: timedelta) -> float:
        """Replace the subscriber's pending code with this one; unless the pending one is younger
        than ``resend_after``: then nothing changes and the seconds left to wait are returned."""
        with self.session() as s:
            pending = s.scalar(select(EmailCode).where(EmailCode.subscriber_id == subscriber_id))
            if pending is not None and now - pending.created_at < resend_after:
                return (resend_after - (now - pending.created_at)).total_seconds()
            if pending is not None:
                s.delete(pending)
                s.flush()
            s.add(EmailCode(subscriber_id=subscriber_id, email=email, code_hash=code_hash,
                            expires_at=expires_at, attempts=0, created_at=now))
            return 0.0

    def drop_email_code(self, subscriber_id: int) -> None:
        with self.session() as s:
            s.execute(delete(EmailCode).where(EmailCode.subscriber_id == subscriber_id))

    def check_email_code(self, subscriber_id: int, matches: Callable[[str], bool], *, now: datetime,
                         max_attempts: int) -> CodeCheck:
        """Try the pending code (``matches(code_hash)``) in one transaction: a right or expired code
        is used up, a wrong one counted (committed) and dropped when no tries are left."""
        with self.session() as s:
            pending = s.scalar(select(EmailCode).where(EmailCode.subscriber_id == subscriber_id))
            if pending is None:
                return CodeCheck("none")
            if now >= pending.expires_at:
                s.delete(pending)
                return CodeCheck("expired", pending.email)
            if not matches(pending.code_hash):
                pending.attempts += 1
                left = max_attempts - pending.attempts
                if left <= 0:
                    s.delete(pending)
                return CodeCheck("wrong", pending.email, max(left, 0))
            s.delete(pending)
            return CodeCheck("ok", pending.email)

    def verify_email_address(self, subscriber_id: int, email: str,
                             default_digest_time: str) -> models.Subscriber | None:
        """Make ``email`` the subscriber's verified address (None if there is no such subscriber).

        An unverified claim of the address elsewhere (an old, unsubscribed row) gives way; a
        verified one does not (:class:`StoreConflict`). A subscriber without a digest time gets
        ``default_digest_time``.
        """
        with self.session() as s:
            row = s.get(Subscriber, subscriber_id)
            if row is None:
                return None
            for other in s.scalars(select(Subscriber).where(func.lower(Subscriber.email) == email.lower(),
                                                            Subscriber.id != subscriber_id)):
                if not other.email_verified:
                    other.email = None
            s.flush()
            row.email, row.email_verified = email, True
            row.digest_time = row.digest_time or default_digest_time
            s.flush()
            return record(models.Subscriber, row)


def chunks(ids: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    """``ids`` in pieces within every backend's limit of bound parameters."""
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _plain(row: Subscriber | None) -> models.Subscriber | None:
    return None if row is None else record(models.Subscriber, row)
