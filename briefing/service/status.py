"""What ``briefing status`` shows: sources, queues, today's output, jobs and the sender lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select

from briefing.service.app import App
from briefing.service.lease import SENDER, LeaseInfo, current
from briefing.service.scheduler import JobRecord, job_records
from briefing.store import Store
from briefing.store.schema import Digest, Source, utcnow

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


def digest_counts(store: Store, digest_date: str) -> dict[str, int]:
    with store.session() as s:
        q = (select(Digest.status, func.count(Digest.id)).where(Digest.digest_date == digest_date)
             .group_by(Digest.status))
        return {k: v for k, v in s.execute(q)}


def status_report(app: App, now: datetime | None = None) -> StatusReport:
    now = now or utcnow()
    day_start = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    store = app.store
    store.sync_sources(app.config.sources)
    return StatusReport(
        now=now, day_start=day_start, sources=store.list_sources(),
        articles={state: store.count_articles(state) for state in ARTICLE_STATES},
        deliveries=store.delivery_counts(),
        briefs_today=store.count_briefs(since=day_start.astimezone(timezone.utc)),
        digests_today=digest_counts(store, day_start.date().isoformat()),
        jobs=job_records(store), lease=current(store, SENDER))
