"""What ``briefing status`` shows: sources, queues, today's output, jobs and the sender lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from briefing.app import App
from briefing.models import JobRecord, LeaseInfo, Source, utcnow
from briefing.service.lease import SENDER

ARTICLE_STATES = ("new", "summarised", "failed", "duplicate")


@dataclass(frozen=True)
class StatusReport:
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


def status_report(app: App, now: datetime | None = None) -> StatusReport:
    now = now or utcnow()
    day_start = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    store = app.store
    store.sync_sources(app.config.source_specs())
    return StatusReport(
        now=now, day_start=day_start, sources=store.list_sources(),
        articles={state: store.count_articles(state) for state in ARTICLE_STATES},
        deliveries=store.delivery_counts(),
        briefs_today=store.count_briefs(since=day_start.astimezone(timezone.utc)),
        digests_today=store.digest_counts(day_start.date().isoformat()),
        jobs=store.job_records(), lease=store.lease(SENDER))
