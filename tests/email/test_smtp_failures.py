"""What a reader notices when SMTP misbehaves: a 4xx is retried, a 5xx stops mail, a crash loses nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from briefing.deliver.email import SmtpSender
from briefing.service.digests import send_due_digests
from briefing.store import Store
from briefing.store.schema import Digest
from tests.email.conftest import HOUR, Ctx, add_subscriber, email_config, utc
from tests.support.briefs import add_brief
from tests.support.http import free_port
from tests.support.smtp import Mailbox, SmtpServer, serve_smtp

NOW = utc(2026, 11, 27, 8, 0)


def _digest(store: Store, subscriber_id: int = 1) -> Digest:
    with store.session() as s:
        return s.query(Digest).filter_by(subscriber_id=subscriber_id).one()


async def test_4xx_is_retried_with_backoff_then_delivered(tmp_path: Path, sqlite_store: Store,
                                                          smtp_server: SmtpServer) -> None:
    config = email_config(tmp_path, smtp_server.port, retry_base_seconds=60)
    add_subscriber(sqlite_store, "reader@example.org")
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - HOUR)
    smtp_server.mailbox.script["reader@example.org"] = ["451 4.3.0 Mailbox busy, try again later"]
    ctx = Ctx(config, sqlite_store)

    first = await send_due_digests(ctx, NOW)
    row = _digest(sqlite_store)
    assert (first.retrying, first.sent) == (1, 0) and smtp_server.mailbox.messages == []
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at == NOW + timedelta(seconds=60) and "451" in (row.last_error or "")

    early = await send_due_digests(ctx, NOW + timedelta(seconds=30))  # back-off not over: nothing
    assert early.sent == 0 and smtp_server.mailbox.rcpt_calls == 1

    later = await send_due_digests(ctx, NOW + timedelta(seconds=60))
    row = _digest(sqlite_store)
    assert later.sent == 1 and len(smtp_server.mailbox.messages) == 1
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


async def test_retries_double_and_last_as_long_as_the_digest_is_news(tmp_path: Path, sqlite_store: Store,
                                                                      smtp_server: SmtpServer) -> None:
    """Issue 8: a 4xx outage longer than any fixed count is retried until email.retry_max_age_hours."""
    config = email_config(tmp_path, smtp_server.port, retry_base_seconds=10, retry_max_age_hours=24)
    add_subscriber(sqlite_store, "reader@example.org")
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - HOUR)
    smtp_server.mailbox.script["reader@example.org"] = ["421 4.7.0 Try later"] * 8
    ctx = Ctx(config, sqlite_store)

    when, waits = NOW, []
    for _ in range(9):
        await send_due_digests(ctx, when)
        row = _digest(sqlite_store)
        if row.status != "pending":
            break
        waits.append((row.next_attempt_at - when).total_seconds())
        when = row.next_attempt_at
    assert waits[:3] == [10, 20, 40]  # base, then doubled
    assert row.status == "sent" and row.attempts == 9  # 8 refusals, then accepted
    assert len(smtp_server.mailbox.messages) == 1


async def test_a_digest_older_than_the_retry_age_is_given_up(tmp_path: Path, sqlite_store: Store,
                                                            smtp_server: SmtpServer) -> None:
    config = email_config(tmp_path, smtp_server.port, retry_base_seconds=10, retry_max_age_hours=2)
    add_subscriber(sqlite_store, "reader@example.org")
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - HOUR)
    smtp_server.mailbox.script["reader@example.org"] = ["421 4.7.0 Try later"] * 3
    ctx = Ctx(config, sqlite_store)
    await send_due_digests(ctx, NOW)
    assert _digest(sqlite_store).status == "pending"
    await send_due_digests(ctx, NOW + timedelta(hours=3))
    row = _digest(sqlite_store)
    assert row.status == "failed" and "retry_max_age_hours" in (row.last_error or "")
    assert smtp_server.mailbox.messages == []


async def test_5xx_marks_failed_and_stops_mailing_the_address(tmp_path: Path, sqlite_store: Store,
                                                               smtp_server: SmtpServer) -> None:
    config = email_config(tmp_path, smtp_server.port)
    sid = add_subscriber(sqlite_store, "nobody@example.org", chat_id=4242)  # also a Telegram user
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - HOUR)
    smtp_server.mailbox.script["nobody@example.org"] = ["550 5.1.1 No such user"]
    ctx = Ctx(config, sqlite_store)

    report = await send_due_digests(ctx, NOW)

    row = _digest(sqlite_store)
    assert report.failed == 1 and row.status == "failed" and "550" in (row.last_error or "")
    sub = sqlite_store.get_subscriber(sid)
    assert sub is not None and sub.email_verified is False
    assert sub.active is True  # Telegram keeps working; only email stops
    tomorrow = await send_due_digests(ctx, NOW + 24 * HOUR)
    assert tomorrow.recorded == 0 and smtp_server.mailbox.rcpt_calls == 1


async def test_connection_failure_is_retried(tmp_path: Path, sqlite_store: Store, smtp_server: SmtpServer) -> None:
    closed = free_port()  # nothing listens here
    add_subscriber(sqlite_store, "reader@example.org")
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - HOUR)

    report = await send_due_digests(Ctx(email_config(tmp_path, closed), sqlite_store), NOW)
    row = _digest(sqlite_store)
    assert report.retrying == 1 and row.status == "pending" and "connect" in (row.last_error or "").lower()

    # The server is back (same database, right port): the digest goes out after the back-off.
    report = await send_due_digests(Ctx(email_config(tmp_path, smtp_server.port), sqlite_store), NOW + HOUR)
    assert report.sent == 1 and len(smtp_server.mailbox.messages) == 1


class Crash(BaseException):
    """The process dying mid-run (not an Exception: nothing may catch it)."""


class CrashingSender:
    """A real SMTP sender that dies before its n-th message."""

    def __init__(self, sender: SmtpSender, crash_on: int) -> None:
        self.sender, self.crash_on, self.calls = sender, crash_on, 0

    async def send(self, message: EmailMessage) -> None:
        self.calls += 1
        if self.calls == self.crash_on:
            raise Crash()
        await self.sender.send(message)


async def test_restart_mid_run_sends_nothing_twice_and_drops_nothing(tmp_path: Path, sqlite_store: Store,
                                                                      smtp_server: SmtpServer) -> None:
    config = email_config(tmp_path, smtp_server.port, sending_stale_seconds=600)
    readers = [f"reader{i}@example.org" for i in range(3)]
    for addr in readers:
        add_subscriber(sqlite_store, addr)
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - HOUR)
    ctx = Ctx(config, sqlite_store)

    crashing = CrashingSender(SmtpSender(config.email), crash_on=2)
    try:
        await send_due_digests(ctx, NOW, smtp=crashing)
    except Crash:
        pass
    assert [m["To"] for m in smtp_server.mailbox.messages] == readers[:1]

    # Restarted a minute later: the untouched digest goes out, the one in flight is left alone...
    await send_due_digests(ctx, NOW + timedelta(minutes=1))
    assert sorted(m["To"] for m in smtp_server.mailbox.messages) == [readers[0], readers[2]]
    # ...until it is stale; then it is sent, once, with the Message-ID recorded before the crash.
    stranded = _digest(sqlite_store, 2)
    await send_due_digests(ctx, NOW + timedelta(minutes=11))
    await send_due_digests(ctx, NOW + timedelta(minutes=30))
    assert sorted(m["To"] for m in smtp_server.mailbox.messages) == sorted(readers)
    resent = next(m for m in smtp_server.mailbox.messages if m["To"] == readers[1])
    assert resent["Message-ID"].strip() == stranded.message_id
    with sqlite_store.session() as s:
        assert {d.status for d in s.query(Digest)} == {"sent"} and s.query(Digest).count() == 3


@pytest.fixture
def auth_smtp_server() -> Iterator[SmtpServer]:
    """An SMTP server that requires a login (plain connection allowed, for the test only)."""
    with serve_smtp(Mailbox(login=(b"bot", b"s3cret"))) as server:
        yield server


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_login_comes_from_the_environment(tmp_path: Path, sqlite_store: Store,
                                                auth_smtp_server: SmtpServer,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    add_subscriber(sqlite_store, "reader@example.org")
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - HOUR)
    ctx = Ctx(email_config(tmp_path, auth_smtp_server.port), sqlite_store)

    # No credentials set: a configuration problem, retried (not a failed digest).
    report = await send_due_digests(ctx, NOW)
    row = _digest(sqlite_store)
    assert report.retrying == 1 and row.status == "pending" and "530" in (row.last_error or "")

    monkeypatch.setenv("BRIEFING_SMTP_USERNAME", "bot")
    monkeypatch.setenv("BRIEFING_SMTP_PASSWORD", "s3cret")
    report = await send_due_digests(ctx, NOW + HOUR)
    assert report.sent == 1 and len(auth_smtp_server.mailbox.messages) == 1


async def test_starttls_is_required_not_optional(tmp_path: Path, sqlite_store: Store,
                                                 smtp_server: SmtpServer) -> None:
    """With security: starttls, a server that cannot upgrade gets nothing in clear text."""
    add_subscriber(sqlite_store, "reader@example.org")
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - HOUR)
    config = email_config(tmp_path, smtp_server.port, security="starttls")

    report = await send_due_digests(Ctx(config, sqlite_store), NOW)

    assert report.retrying == 1 and smtp_server.mailbox.messages == []
    assert "STARTTLS" in (_digest(sqlite_store).last_error or "").upper()


async def test_a_refused_message_fails_that_digest_but_keeps_the_reader(
        tmp_path: Path, sqlite_store: Store, smtp_server: SmtpServer) -> None:
    config = email_config(tmp_path, smtp_server.port)
    sid = add_subscriber(sqlite_store, "reader@example.org")
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - HOUR)
    smtp_server.mailbox.data_replies.append("554 5.7.1 Message content rejected")
    ctx = Ctx(config, sqlite_store)

    report = await send_due_digests(ctx, NOW)
    assert report.failed == 1 and "554" in (_digest(sqlite_store).last_error or "")
    assert sqlite_store.get_subscriber(sid).email_verified is True  # type: ignore[union-attr]

    add_brief(sqlite_store, "Harbour tolls cut", topics=["economy"], created_at=NOW + HOUR)
    tomorrow = await send_due_digests(ctx, NOW + 24 * HOUR)
    assert tomorrow.sent == 1 and len(smtp_server.mailbox.messages) == 1
