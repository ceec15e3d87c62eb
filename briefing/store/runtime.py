"""Runtime state of the service: the sender lease and each scheduled job's last and next run.

Taking or renewing a lease is a single conditional ``UPDATE`` (or an ``INSERT`` that the primary
key lets only one instance win), so it is atomic on SQLite and PostgreSQL alike without advisory
locks (see :mod:`briefing.service.lease`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from briefing.errors import StoreConflict
from briefing.models import JobRecord, LeaseInfo
from briefing.store.base import StoreBase
from briefing.store.schema import JobState, Lease, utcnow


class Runtime(StoreBase):
    # -- leases ----------------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
        """Take or renew ``name`` for ``holder`` until ``now + ttl``; False if someone else holds it."""
        now = now or utcnow()
        expires = now + ttl
        with self.session() as s:
            res = s.execute(update(Lease)
                            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
                            .values(holder=holder, expires_at=expires))
            if res.rowcount:
                return True
        try:
            with self.session() as s:
                s.add(Lease(name=name, holder=holder, expires_at=expires))
            return True
        except StoreConflict:
            return False  # the row exists and is held by a live instance (the UPDATE matched nothing)

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up now (clean shutdown), so a standby takes over without waiting for expiry."""
        with self.session() as s:
            s.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))

    def lease(self, name: str) -> LeaseInfo | None:
        with self.session() as s:
            row = s.scalar(select(Lease).where(Lease.name == name))
            return None if row is None else LeaseInfo(row.name, row.holder, row.expires_at)

    # -- job state -------------------------------------------------------------

    def record_job_run(self, name: str, *, ran_at: datetime | None, next_run_at: datetime | None,
                       error: str | None) -> None:
        """Upsert a job's state after it ran (``ran_at``), or when it is scheduled (``ran_at=None``)."""
        with self.session() as s:
            row = s.get(JobState, name)
            if row is None:
                row = JobState(name=name)
                s.add(row)
            if ran_at is not None:
                row.last_run_at, row.last_error = ran_at, (error[:2000] if error else None)
            row.next_run_at = next_run_at

    def job_records(self) -> list[JobRecord]:
        with self.session() as s:
            rows = s.scalars(select(JobState).order_by(JobState.name))
            return [JobRecord(r.name, r.last_run_at, r.next_run_at, r.last_error) for r in rows]

    def clear_next_runs(self) -> None:
        """On shutdown: no job is scheduled any more, so ``status`` must not promise a next run."""
        with self.session() as s:
            s.execute(update(JobState).values(next_run_at=None))

    def forget_jobs_except(self, names: Collection[str]) -> None:
        """Drop the state of jobs that no longer exist (a source removed), so status does not list them."""
        with self.session() as s:
            s.execute(delete(JobState).where(JobState.name.not_in(list(names))))
