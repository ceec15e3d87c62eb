"""One SMTP connection per digest run (issue 13), as a real server (aiosmtpd) sees it: one
connection and one login for many digests, a refusal for one reader that leaves the others alone,
and a connection the server closes that is reopened without losing or doubling a digest."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from briefing.service.digests import send_due_digests
from briefing.store import Store
from briefing.store.schema import Digest
from tests.email.conftest import HOUR, Ctx, add_subscriber, email_config, utc
from tests.support.briefs import add_brief
from tests.support.http import free_port
from tests.support.smtp import Mailbox, serve_smtp

NOW = utc(2026, 11, 27, 8, 0)
READERS = [f"reader{i}@example.org" for i in range(6)]


@dataclass
class Server(Mailbox):
    """A mailbox that also notes each connection and login, and can close connections:
    ``close_after``: answer the MAIL after that many messages on one connection with 421 and
    hang up (a messages-per-connection limit or an idle timeout); ``hang_up_in_data``: take the
    message for these addresses, then hang up without answering the DATA."""

    peers: list[object] = field(default_factory=list)  # one per message: the client's (host, port)
    close_after: int | None = None
    hang_up_in_data: set[str] = field(default_factory=set)
    _per_connection: dict[object, int] = field(default_factory=dict)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802, ANN001
        if self.close_after is not None and self._per_connection.get(session.peer, 0) >= self.close_after:
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.7.0 Too many messages on this connection, closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        reply = await super().handle_DATA(server, session, envelope)
        self.peers.append(session.peer)
        self._per_connection[session.peer] = self._per_connection.get(session.peer, 0) + 1
        if set(envelope.rcpt_tos) & self.hang_up_in_data:
            self.hang_up_in_data -= set(envelope.rcpt_tos)
            server.transport.close()  # the message arrived, the answer never does
        return reply

    def received(self) -> list[str]:
        return sorted(m["To"] for m in self.messages)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, int]]:
    """A server that requires a login (over plain SMTP, for the test only)."""
    monkeypatch.setenv("BRIEFING_SMTP_USERNAME", "bot")
    monkeypatch.setenv("BRIEFING_SMTP_PASSWORD", "s3cret")
    box = Server(login=(b"bot", b"s3cret"))
    with serve_smtp(box) as smtp:
        yield box, smtp.port


def _setup(tmp_path: Path, store: Store, port: int) -> Ctx:
    for addr in READERS:
        add_subscriber(store, addr)
    add_brief(store, "Bakery prices rise", topics=["economy"], created_at=NOW - HOUR)
    return Ctx(email_config(tmp_path, port, retry_base_seconds=60), store)


def _statuses(store: Store) -> dict[str, str]:
    with store.session() as s:
        return {d.subscriber_id: d.status for d in s.query(Digest)}


pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


async def test_a_run_sends_every_digest_over_one_connection_with_one_login(
        tmp_path: Path, store: Store, server: tuple[Server, int]) -> None:
    box, port = server
    report = await send_due_digests(_setup(tmp_path, store, port), NOW)
    assert report.sent == len(READERS), report.errors
    assert box.received() == sorted(READERS)
    assert len(set(box.peers)) == 1 and box.logins == 1
    # The next run opens its own connection (none is held open between runs).
    add_brief(store, "Harbour tolls cut", topics=["economy"], created_at=NOW + HOUR)
    await send_due_digests(Ctx(email_config(tmp_path, port), store), NOW + 24 * HOUR)
    assert len(box.messages) == 2 * len(READERS) and len(set(box.peers)) == 2 and box.logins == 2


async def test_a_4xx_for_one_reader_leaves_the_others_and_the_connection_alone(
        tmp_path: Path, store: Store, server: tuple[Server, int]) -> None:
    box, port = server
    box.script[READERS[2]] = ["451 4.3.0 Mailbox busy, try again later"]
    ctx = _setup(tmp_path, store, port)
    report = await send_due_digests(ctx, NOW)
    assert (report.sent, report.retrying) == (len(READERS) - 1, 1)
    assert box.received() == sorted(READERS[:2] + READERS[3:])
    assert len(set(box.peers)) == 1 and box.logins == 1
    later = await send_due_digests(ctx, NOW + timedelta(seconds=60))
    assert later.sent == 1 and box.received() == sorted(READERS)


async def test_a_connection_the_server_closes_is_reopened_losing_and_doubling_nothing(
        tmp_path: Path, store: Store, server: tuple[Server, int]) -> None:
    box, port = server
    box.close_after = 2  # 421 and hang up at the third MAIL on a connection
    report = await send_due_digests(_setup(tmp_path, store, port), NOW)
    assert (report.sent, report.retrying, report.failed) == (len(READERS), 0, 0), report.errors
    assert box.received() == sorted(READERS)  # each exactly once
    assert len(set(box.peers)) == 3 and box.logins == 3
    assert set(_statuses(store).values()) == {"sent"}


async def test_a_hang_up_after_the_message_went_out_is_not_resent_at_once(
        tmp_path: Path, store: Store, server: tuple[Server, int]) -> None:
    """The server may have kept a message whose answer never came: that digest waits for its
    retry (same Message-ID); the rest of the run carries on over a new connection."""
    box, port = server
    box.hang_up_in_data = {READERS[1]}
    ctx = _setup(tmp_path, store, port)
    report = await send_due_digests(ctx, NOW)
    assert (report.sent, report.retrying) == (len(READERS) - 1, 1)
    assert box.received() == sorted(READERS)  # READERS[1]'s arrived once, unacknowledged
    assert len(set(box.peers)) == 2
    first = box.to(READERS[1])[0]["Message-ID"]
    await send_due_digests(ctx, NOW + timedelta(seconds=60))
    copies = box.to(READERS[1])
    assert len(copies) == 2 and {m["Message-ID"] for m in copies} == {first}
    assert set(_statuses(store).values()) == {"sent"}


async def test_a_server_that_is_down_costs_one_connection_attempt_per_run(
        tmp_path: Path, store: Store) -> None:
    ctx = _setup(tmp_path, store, free_port())  # nothing listens there
    report = await send_due_digests(ctx, NOW)
    assert report.retrying == len(READERS) and report.sent == 0
    with store.session() as s:
        errors = [d.last_error or "" for d in s.query(Digest).order_by(Digest.id)]
    assert "connect" in errors[0].lower() and all("not tried again in this run" in e for e in errors[1:])
