"""Sources: the configured and chat-added feeds and pages, and their poll state."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update

from briefing import models
from briefing.store.base import StoreBase, record
from briefing.store.schema import Source, utcnow


class Sources(StoreBase):
    def sync_sources(self, specs: Sequence[models.SourceSpec]) -> None:
        """Make the sources table match the config; sources no longer configured go inactive."""
        names = {c.name for c in specs}
        with self.session() as s:
            existing = {row.name: row for row in s.scalars(select(Source))}
            for cfg in specs:
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

    def add_source(self, name: str, kind: str, location: str, topics: Sequence[str] = ()) -> models.Source:
        with self.session() as s:
            row = s.scalar(select(Source).where(Source.name == name))
            if row is None:
                row = Source(name=name, kind=kind, location=location, topics=list(topics), active=True)
                s.add(row)
            else:
                row.kind, row.location, row.active = kind, location, True
            s.flush()
            return record(models.Source, row)

    def get_source(self, name: str) -> models.Source | None:
        with self.session() as s:
            row = s.scalar(select(Source).where(Source.name == name))
            return None if row is None else record(models.Source, row)

    def list_sources(self, active_only: bool = False) -> list[models.Source]:
        with self.session() as s:
            q = select(Source).order_by(Source.name)
            if active_only:
                q = q.where(Source.active.is_(True))
            return [record(models.Source, row) for row in s.scalars(q)]

    def source_topics(self, source_id: int) -> list[str]:
        with self.session() as s:
            return list(s.scalar(select(Source.topics).where(Source.id == source_id)) or [])

    def source_name(self, source_id: int | None) -> str | None:
        if source_id is None:
            return None
        with self.session() as s:
            return s.scalar(select(Source.name).where(Source.id == source_id))

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
