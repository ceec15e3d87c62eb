"""The scheduler of ``briefing run``: APScheduler 3 with job state kept in our own table.

Why our ``job_state`` table and not APScheduler's ``SQLAlchemyJobStore``:

- the state a restart must honour already lives in the domain tables, where the work
  itself records it atomically: each source's ``next_poll_at`` (with back-off after
  failures), pending and claimed deliveries, and the ``digests`` rows written before a
  digest is sent. A separate copy of "when to run next" could only disagree with them;
- the job store pickles each job's callable and arguments. Ours are bound to objects
  built at start-up (the app, the bot), which do not pickle, and pickles break when the
  code changes between versions;
- two schedulers on one ``SQLAlchemyJobStore`` both run every job (APScheduler 3 has no
  shared-store locking), so it would not stop double-sending anyway; the lease does.

So jobs are rebuilt from the config at every start, the poll jobs are scheduled from the
sources' ``next_poll_at``, and ``job_state`` records each job's last run, next run and
last error for ``briefing status``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from briefing.config import ServiceConfig


def build_scheduler(cfg: ServiceConfig) -> AsyncIOScheduler:
    """An in-memory AsyncIOScheduler whose jobs coalesce, never overlap and skip stale misfires.

    ``coalesce``: runs missed while the laptop slept (or a slow model held the job) become
    one run. ``max_instances=1``: a job never runs twice at once. ``misfire_grace_time``: a
    run later than this is skipped and the job waits for its next time.
    """
    return AsyncIOScheduler(timezone="UTC", job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": int(cfg.misfire_grace_seconds)})


def next_poll_time(next_poll_at: datetime | None, now: datetime, jitter_seconds: float,
                   rng: random.Random | None = None) -> datetime:
    """When a source's poll job runs next: its stored ``next_poll_at`` (never in the past),
    plus a random jitter so sources with equal intervals do not all fire together."""
    base = now if next_poll_at is None or next_poll_at < now else next_poll_at
    jitter = (rng or random).uniform(0, jitter_seconds) if jitter_seconds > 0 else 0.0
    return base + timedelta(seconds=jitter)
