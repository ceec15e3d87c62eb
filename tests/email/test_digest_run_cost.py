"""A digest run reads briefs once, not once per subscriber or per brief (issue 13), and what it
sends is what a retry of the same digest would send."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from briefing.service.digests import send_due_digests
from briefing.store import Store
from tests.email.conftest import HOUR, Ctx, add_subscriber, email_config, utc
from tests.support.briefs import add_brief
from tests.support.smtp import SmtpServer

NOW = utc(2026, 11, 27, 8, 0)


async def test_a_run_for_many_readers_reads_the_briefs_once(tmp_path: Path, sqlite_store: Store,
                                                            smtp_server: SmtpServer) -> None:
    readers = [f"reader{i}@example.org" for i in range(20)]
    for addr in readers:
        add_subscriber(sqlite_store, addr, topics=("economy",), keywords=("harbour",))
    headlines = [f"Harbour story {i}" for i in range(5)]
    for i, headline in enumerate(headlines):
        add_brief(sqlite_store, headline, topics=["economy"], created_at=NOW - (i + 1) * HOUR, duplicates=i % 2)
    statements: list[str] = []

    def on_execute(conn, cursor, statement, *args):  # noqa: ANN001, ANN202
        statements.append(statement)

    event.listen(sqlite_store.engine, "before_cursor_execute", on_execute)
    try:
        report = await send_due_digests(Ctx(email_config(tmp_path, smtp_server.port), sqlite_store), NOW)
    finally:
        event.remove(sqlite_store.engine, "before_cursor_execute", on_execute)
    assert report.sent == 20, report.errors
    for msg in smtp_server.mailbox.messages:
        plain = msg.get_body(preferencelist=("plain",)).get_content()
        assert all(h in plain for h in headlines) and "matches harbour" in plain
    reads = {table: sum(1 for st in statements if st.lstrip().startswith("SELECT") and f"FROM {table}" in st)
             for table in ("briefs", "subscriptions", "articles")}
    # The period's brief ids, then the briefs themselves; every subscription at once; duplicates once.
    assert reads == {"briefs": 2, "subscriptions": 1, "articles": 1}, reads


async def test_a_retried_digest_reads_as_the_first_try_would_have(tmp_path: Path, sqlite_store: Store,
                                                                  smtp_server: SmtpServer) -> None:
    config = email_config(tmp_path, smtp_server.port, retry_base_seconds=60)
    for addr in ("first@example.org", "retried@example.org"):
        add_subscriber(sqlite_store, addr, topics=("economy", "politics"), keywords=("harbour",))
    add_brief(sqlite_store, "Budget vote delayed", topics=["politics"], created_at=NOW - 5 * HOUR, duplicates=2)
    add_brief(sqlite_store, "Harbour tolls cut", topics=["economy"], created_at=NOW - 3 * HOUR)
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - 2 * HOUR)
    smtp_server.mailbox.script["retried@example.org"] = ["451 4.3.0 try later"]
    ctx = Ctx(config, sqlite_store)
    await send_due_digests(ctx, NOW)  # composed at recording and sent as composed
    await send_due_digests(ctx, NOW + HOUR)  # composed again from the recorded brief ids

    def body(to: str) -> str:
        [msg] = smtp_server.mailbox.to(to)
        return msg.get_body(preferencelist=("plain",)).get_content()

    first, retried = body("first@example.org"), body("retried@example.org")
    assert "Budget vote delayed" in first and "Harbour tolls cut" in first
    assert first.replace("first@example.org", "X").split("unsubscribe")[0] == \
        retried.replace("retried@example.org", "X").split("unsubscribe")[0]
