"""Email test fixtures: the unsubscribe secret, configs, subscribers at chosen times.

The SMTP server is ``smtp_server`` (tests/support/smtp.py); briefs come from ``add_brief``
(tests/support/briefs.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from briefing.config import Config
from briefing.store import Store
from briefing.store.schema import Subscriber
from tests.support.config import make_config

UNSUBSCRIBE_SECRET = "test-unsubscribe-key-0123456789"


@pytest.fixture(autouse=True)
def _unsubscribe_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFING_UNSUBSCRIBE_SECRET", UNSUBSCRIBE_SECRET)
    monkeypatch.delenv("BRIEFING_SMTP_USERNAME", raising=False)
    monkeypatch.delenv("BRIEFING_SMTP_PASSWORD", raising=False)


def email_config(tmp_path: Path, port: int, **email_overrides: object) -> Config:
    """Email on, plain SMTP to the local server, fast back-off."""
    cfg: dict[str, object] = {
        "enabled": True, "smtp_host": "127.0.0.1", "smtp_port": port, "security": "none",
        "from_address": "Briefing <briefing@news.example>", "timeout_seconds": 5,
        "unsubscribe_base_url": "https://news.example", "retry_base_seconds": 60,
    }
    cfg.update(email_overrides)
    sources = [{"name": "Harbour Times", "kind": "folder", "path": "x", "topics": ["economy", "city"]},
               {"name": "Daily Wire", "kind": "folder", "path": "y", "topics": ["politics"]}]
    return make_config(tmp_path, email=cfg, sources=sources)


@dataclass
class Ctx:
    """What the digest job takes from the service's App: its config and store."""

    config: Config
    store: Store


def add_subscriber(store: Store, email_addr: str | None = "reader@example.org", *, tz: str = "UTC",
                   at: str = "08:00", topics: tuple[str, ...] = ("economy",), keywords: tuple[str, ...] = (),
                   verified: bool = True, chat_id: int | None = None, digest_telegram: bool = False,
                   name: str | None = None) -> int:
    with store.session() as s:
        row = Subscriber(email=email_addr, email_verified=verified, timezone=tz, digest_time=at,
                         telegram_chat_id=chat_id, digest_telegram=digest_telegram, display_name=name)
        s.add(row)
        s.flush()
        sid = row.id
    for t in topics:
        store.subscribe(sid, "topic", t)
    for k in keywords:
        store.subscribe(sid, "keyword", k)
    return sid


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


HOUR = timedelta(hours=1)
