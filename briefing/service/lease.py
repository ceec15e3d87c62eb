"""A database lease: the one running instance that may send (no double-sending).

Of two instances started by accident on one database, only the holder of the
``sender`` lease works: it polls, summarises, runs the Telegram bot, drains
deliveries and sends digests; the other stands by (see ``briefing.service.runner``). The lease is a row ``(name, holder,
expires_at)``; taking or renewing it is a single conditional ``UPDATE`` (or an
``INSERT`` that the primary key lets only one instance win), so it is atomic on
SQLite and PostgreSQL alike without advisory locks. A holder that dies stops
renewing; once ``expires_at`` passes, another instance takes over.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from briefing.store import Store
from briefing.store.schema import Lease, utcnow

log = logging.getLogger(__name__)

SENDER = "sender"


def holder_id() -> str:
    """Who holds a lease: host, pid and a random part (pids repeat across restarts and hosts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaseInfo:
    name: str
    holder: str
    expires_at: datetime


def acquire(store: Store, name: str, holder: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Take or renew ``name`` for ``holder`` until ``now + ttl``; False if someone else holds it."""
    now = now or utcnow()
    expires = now + ttl
    with store.session() as s:
        res = s.execute(update(Lease)
                        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
                        .values(holder=holder, expires_at=expires))
        if res.rowcount:
            return True
    try:
        with store.session() as s:
            s.add(Lease(name=name, holder=holder, expires_at=expires))
        return True
    except IntegrityError:
        return False  # the row exists and is held by a live instance (the UPDATE matched nothing)


def release(store: Store, name: str, holder: str) -> None:
    """Give the lease up now (clean shutdown), so a standby takes over without waiting for expiry."""
    with store.session() as s:
        s.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


def current(store: Store, name: str = SENDER) -> LeaseInfo | None:
    with store.session() as s:
        row = s.scalar(select(Lease).where(Lease.name == name))
        return None if row is None else LeaseInfo(row.name, row.holder, row.expires_at)


class SenderLease:
    """This process's hold on the ``sender`` lease; sending jobs ask :meth:`hold` before sending."""

    def __init__(self, store: Store, ttl_seconds: float, name: str = SENDER, holder: str | None = None) -> None:
        self.store = store
        self.name = name
        self.holder = holder or holder_id()
        self.ttl = timedelta(seconds=ttl_seconds)
        self.held = False

    def hold(self, now: datetime | None = None) -> bool:
        """Take or renew the lease; logs when it is gained or lost, so an operator sees a takeover."""
        held = acquire(self.store, self.name, self.holder, self.ttl, now)
        if held != self.held:
            if held:
                log.info("holding the %s lease (%s): this instance is the active one", self.name, self.holder)
            else:
                other = current(self.store, self.name)
                log.warning("the %s lease is held by %s until %s: this instance stands by",
                            self.name, other.holder if other else "?",
                            other.expires_at.isoformat() if other else "?")
        self.held = held
        return held

    def release(self) -> None:
        if self.held:
            release(self.store, self.name, self.holder)
            self.held = False
