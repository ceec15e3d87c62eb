"""Email test fixtures: a real SMTP server (aiosmtpd) on 127.0.0.1, briefs at chosen times, configs."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from briefing.config import Config
from briefing.models import Actor, ArticleDraft, Brief
from briefing.store import Store
from briefing.store.schema import BriefRow, Subscriber
from tests.conftest import make_config

UNSUBSCRIBE_SECRET = "test-unsubscribe-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """An aiosmtpd handler: records every accepted message; ``script`` scripts RCPT replies.

    ``script["a@x.org"] = ["451 4.3.0 try later"]`` answers the next RCPT for that address with
    451, then accepts as usual.
    """

    messages: list[EmailMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)  # the bytes as received, headers unparsed
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    script: dict[str, list[str]] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)  # answers to the next DATA commands
    rcpt_calls: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802, ANN001
        self.rcpt_calls += 1
        queued = self.script.get(address)
        if queued:
            return queued.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        if self.data_replies:
            return self.data_replies.pop(0)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.raw.append(envelope.content)
        self.messages.append(msg)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(port, mailbox)
    finally:
        controller.stop()


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


_counter = iter(range(1, 1_000_000))


def add_brief(store: Store, headline: str, *, topics: list[str], source: str = "Harbour Times",
              created_at: datetime, published: datetime | None = None, duplicates: int = 0,
              summary: list[str] | None = None, actors: list[Actor] | None = None,
              url: str | None = None) -> int:
    """Store an article and its brief written at ``created_at``; ``duplicates`` near-copies from other outlets."""
    if store.get_source(source) is None:
        store.add_source(source, "folder", "/tmp", topics)
    n = next(_counter)
    article = store.add_article(
        ArticleDraft(url=url or f"https://news.example/story/{n}", title=headline,
                     text=f"Body {n} {headline}", published=published or created_at),
        source_name=source, fingerprint=[])
    assert article is not None
    for d in range(duplicates):
        store.add_article(ArticleDraft(url=f"https://other{d}.example/{n}", title=headline,
                                       text=f"Copy {d} of {n} {headline}", published=published or created_at),
                          source_name=None, fingerprint=[], duplicate_of=article.id)
    brief = Brief(headline=headline, summary=summary or [f"{headline} happened today.", "Officials reacted."],
                  actors=actors if actors is not None else [
                      Actor("Anna Berg", "Mayor", "supports the plan", "Berg said she supports it.")],
                  engine="extractive", topics=topics)
    brief_id = store.save_brief(article.id, brief, cache_key=f"k{n}")
    with store.session() as s:
        s.get(BriefRow, brief_id).created_at = created_at  # type: ignore[union-attr]
    return brief_id


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
