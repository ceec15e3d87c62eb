"""Database queries the bot needs beyond :class:`briefing.store.Store` (read-mostly, small)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from briefing.store import Store
from briefing.store.schema import Delivery, Subscriber, Subscription, utcnow


@dataclass(frozen=True)
class PendingDelivery:
    id: int
    subscriber_id: int
    brief_id: int
    chat_id: int | None


def pending_deliveries(store: Store, channel: str, limit: int) -> list[PendingDelivery]:
    """Due pending deliveries, oldest first, without claiming them (for ``--dry-run``)."""
    now = utcnow()
    with store.session() as s:
        q = (select(Delivery.id, Delivery.subscriber_id, Delivery.brief_id, Subscriber.telegram_chat_id)
             .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
             .where(Delivery.channel == channel, Delivery.status == "pending",
                    Delivery.next_attempt_at.is_(None) | (Delivery.next_attempt_at <= now))
             .order_by(Delivery.id).limit(limit))
        return [PendingDelivery(*row) for row in s.execute(q)]


def release_deliveries(store: Store, delivery_ids: list[int], reason: str) -> int:
    """Put claimed (``sending``) deliveries that were never attempted back to ``pending``."""
    if not delivery_ids:
        return 0
    with store.session() as s:
        res = s.execute(update(Delivery).where(Delivery.id.in_(delivery_ids), Delivery.status == "sending")
                        .values(status="pending", next_attempt_at=None, last_error=reason,
                                attempts=Delivery.attempts - 1))
        return res.rowcount


@dataclass(frozen=True)
class BotStats:
    subscribers_active: int
    subscribers_inactive: int
    subscriptions: int
    briefs_24h: int
    deliveries: dict[str, int]


def bot_stats(store: Store, now: datetime | None = None) -> BotStats:
    """Counts for the admin ``/stats`` command."""
    now = now or utcnow()
    with store.session() as s:
        q = select(Subscriber.active, func.count(Subscriber.id)).group_by(Subscriber.active)
        by_active = dict(s.execute(q).all())
        subs = s.scalar(select(func.count(Subscription.id))) or 0
    return BotStats(subscribers_active=by_active.get(True, 0), subscribers_inactive=by_active.get(False, 0),
                    subscriptions=subs, briefs_24h=store.count_briefs(since=now - timedelta(hours=24)),
                    deliveries=store.delivery_counts())
