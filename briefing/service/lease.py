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
from datetime import datetime, timedelta

from briefing.store import Store

log = logging.getLogger(__name__)

SENDER = "sender"


def holder_id() -> str:
    """Who holds a lease: host, pid and a random part (pids repeat across restarts and hosts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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
        held = self.store.acquire_lease(self.name, self.holder, self.ttl, now)
        if held != self.held:
            if held:
                log.info("holding the %s lease (%s): this instance is the active one", self.name, self.holder)
            else:
                other = self.store.lease(self.name)
                log.warning("the %s lease is held by %s until %s: this instance stands by",
                            self.name, other.holder if other else "?",
                            other.expires_at.isoformat() if other else "?")
        self.held = held
        return held

    def release(self) -> None:
        if self.held:
            self.store.release_lease(self.name, self.holder)
            self.held = False
