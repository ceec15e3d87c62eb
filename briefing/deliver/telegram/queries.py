"""What the bot reads beyond single store calls: the admin's ``/stats`` counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from briefing.models import utcnow
from briefing.store import Store


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
    by_active = store.subscriber_counts()
    return BotStats(subscribers_active=by_active.get(True, 0), subscribers_inactive=by_active.get(False, 0),
                    subscriptions=store.count_subscriptions(), briefs_24h=store.count_briefs(since=now - timedelta(hours=24)),
                    deliveries=store.delivery_counts())
