"""The digest email as it arrives at a real SMTP server: headers, both parts, ranking, escaping."""

from __future__ import annotations

import re
from html import escape
from email.utils import parsedate_to_datetime
from pathlib import Path

from briefing.service.digests import send_due_digests
from briefing.models import Actor
from briefing.store import Store
from briefing.store.schema import Digest
from tests.email.conftest import HOUR, Ctx, add_subscriber, email_config, utc
from tests.support.briefs import add_brief
from tests.support.smtp import SmtpServer

HOSTILE = 'Mayor <script>alert("x")</script> quits "><img src=x onerror=alert(1)>'
NOW = utc(2026, 11, 27, 8, 0)


def _parts(msg):  # noqa: ANN001, ANN202
    plain = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    return plain, html


def _digests(store: Store) -> list[Digest]:
    with store.session() as s:
        return list(s.query(Digest).order_by(Digest.id))


async def test_list_unsubscribe_mailto_is_never_rfc2047_encoded(
        tmp_path: Path, sqlite_store: Store, smtp_server: SmtpServer) -> None:
    """Issue 8 row 6: read the raw header as received; a long one must fold, not be encoded."""
    config = email_config(tmp_path, smtp_server.port)  # from_address "Briefing <briefing@news.example>"
    add_subscriber(sqlite_store, "a.rather.long.reader.address@mail.example.org", topics=("economy",))
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - 2 * HOUR)
    report = await send_due_digests(Ctx(config, sqlite_store), NOW)
    assert report.sent == 1, report.errors
    [raw] = smtp_server.mailbox.raw
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").decode("ascii")
    [value] = [line.split(":", 1)[1].strip() for line in head.split("\r\n")
               if line.lower().startswith("list-unsubscribe:")]
    assert "=?" not in value
    mailto, url = re.fullmatch(r"<([^<>]+)>, *<([^<>]+)>", value).groups()  # type: ignore[union-attr]
    assert re.fullmatch(r"mailto:briefing@news\.example\?subject=unsubscribe%20\d+%20[\w.-]+", mailto)
    assert url.startswith("https://news.example/unsubscribe?s=")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))


async def test_digest_arrives_with_headers_both_parts_and_ranking(
        tmp_path: Path, sqlite_store: Store, smtp_server: SmtpServer) -> None:
    config = email_config(tmp_path, smtp_server.port)
    add_subscriber(sqlite_store, "reader@example.org", topics=("economy", "politics"), keywords=("harbour",))
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - 2 * HOUR)
    add_brief(sqlite_store, "Budget vote delayed", topics=["politics"], source="Daily Wire",
              created_at=NOW - 5 * HOUR, duplicates=3,
              actors=[Actor("Lena Ode", "Finance minister", "wants the vote next week", "Ode said ...")])
    add_brief(sqlite_store, "Harbour tolls cut", topics=["economy"], created_at=NOW - 3 * HOUR)
    add_brief(sqlite_store, "Football results", topics=["sport"], created_at=NOW - 1 * HOUR)  # not followed
    add_brief(sqlite_store, "Old economy news", topics=["economy"], created_at=NOW - 30 * HOUR)  # before period

    report = await send_due_digests(Ctx(config, sqlite_store), NOW)

    assert (report.recorded, report.sent, report.failed) == (1, 1, 0), report.errors
    [msg] = smtp_server.mailbox.messages
    assert msg["From"] == "Briefing <briefing@news.example>"
    assert msg["To"] == "reader@example.org"
    assert msg["Subject"] == "Your briefing for Fri 27 Nov 2026: 3 stories"
    assert parsedate_to_datetime(msg["Date"]) == NOW
    assert re.fullmatch(r"<[^<>@\s]+@news\.example>", msg["Message-ID"].strip())
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    mailto, url = re.findall(r"<([^<>]+)>", msg["List-Unsubscribe"])
    assert mailto.startswith("mailto:briefing@news.example?subject=unsubscribe")
    assert url.startswith("https://news.example/unsubscribe?s=")
    assert msg.get_content_type() == "multipart/alternative"

    plain, html = _parts(msg)
    # Ranking: 4 sources beat 1; among single-source stories the keyword hit wins over recency.
    order = ["Budget vote delayed", "Harbour tolls cut", "Bakery prices rise"]
    assert [h for h in order if h in plain] == order
    assert sorted(order, key=plain.index) == order
    assert sorted(order, key=html.index) == order
    for text in (plain, html):
        assert "Football results" not in text and "Old economy news" not in text
        assert "Lena Ode" in text and "wants the vote next week" in text  # key actors and positions
        assert "4 sources" in text and "matches harbour" in text
    # Grouped by topic, the topic of the best story first.
    assert plain.index("== POLITICS ==") < plain.index("== ECONOMY ==")
    assert html.index(">Politics</h2>") < html.index(">Economy</h2>")
    assert escape(url) in html and url in plain  # & is &amp; inside an HTML attribute
    # No remote images or stylesheets; CSS is inlined.
    assert "<img" not in html and "<link" not in html and "url(" not in html
    assert 'style="' in html and "data-inline" not in html
    assert _digests(sqlite_store)[0].status == "sent"
    assert sqlite_store.get_subscriber(1).last_digest_at == NOW


async def test_hostile_article_text_is_escaped(tmp_path: Path, sqlite_store: Store, smtp_server: SmtpServer) -> None:
    config = email_config(tmp_path, smtp_server.port)
    add_subscriber(sqlite_store, "reader@example.org")
    add_brief(sqlite_store, HOSTILE, topics=["economy"], created_at=NOW - HOUR,
              url='javascript:alert(1)//"><b>',
              actors=[Actor('Eve "><svg onload=x>', "<i>troll</i>", "wants <a href=//evil>clicks</a>", "e")])

    await send_due_digests(Ctx(config, sqlite_store), NOW)

    plain, html = _parts(smtp_server.mailbox.messages[0])
    assert "<script" not in html and "<img" not in html and "<svg" not in html and "<a href=//evil" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html  # a non-http(s) link is shown as text, never as href
    assert HOSTILE in plain  # the plain part shows the text as it is


async def test_empty_day_sends_nothing_unless_configured(tmp_path: Path, sqlite_store: Store,
                                                         smtp_server: SmtpServer) -> None:
    add_subscriber(sqlite_store, "reader@example.org")
    add_brief(sqlite_store, "Football results", topics=["sport"], created_at=NOW - HOUR)

    report = await send_due_digests(Ctx(email_config(tmp_path, smtp_server.port), sqlite_store), NOW)
    assert (report.recorded, report.empty, report.sent) == (1, 1, 0)
    assert smtp_server.mailbox.messages == []
    assert _digests(sqlite_store)[0].status == "empty"

    config = email_config(tmp_path, smtp_server.port, send_empty_digest=True)
    report = await send_due_digests(Ctx(config, sqlite_store), NOW + 24 * HOUR)
    [msg] = smtp_server.mailbox.messages
    assert msg["Subject"] == "Your briefing for Sat 28 Nov 2026: no new stories"
    assert "No new stories matched" in _parts(msg)[0]


async def test_unverified_or_inactive_addresses_get_nothing(tmp_path: Path, sqlite_store: Store,
                                                            smtp_server: SmtpServer) -> None:
    add_subscriber(sqlite_store, "unverified@example.org", verified=False)
    gone = add_subscriber(sqlite_store, "gone@example.org")
    sqlite_store.deactivate_subscriber(gone, "stopped")
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=NOW - HOUR)

    report = await send_due_digests(Ctx(email_config(tmp_path, smtp_server.port), sqlite_store), NOW)

    assert report.recorded == 0 and smtp_server.mailbox.messages == []


async def test_each_story_appears_in_exactly_one_digest(tmp_path: Path, sqlite_store: Store,
                                                         smtp_server: SmtpServer) -> None:
    """Periods are contiguous: day two has what arrived after day one's digest, nothing repeated."""
    config = email_config(tmp_path, smtp_server.port)
    add_subscriber(sqlite_store, "reader@example.org")
    add_brief(sqlite_store, "Story one", topics=["economy"], created_at=NOW - HOUR)
    await send_due_digests(Ctx(config, sqlite_store), NOW)
    add_brief(sqlite_store, "Story two", topics=["economy"], created_at=NOW + HOUR)
    await send_due_digests(Ctx(config, sqlite_store), NOW + 24 * HOUR)

    first, second = (_parts(m)[0] for m in smtp_server.mailbox.messages)
    assert "Story one" in first and "Story two" not in first
    assert "Story two" in second and "Story one" not in second


async def test_digest_is_due_only_once_per_local_day(tmp_path: Path, sqlite_store: Store,
                                                     smtp_server: SmtpServer) -> None:
    config = email_config(tmp_path, smtp_server.port)
    add_subscriber(sqlite_store, "reader@example.org", at="08:00")
    add_brief(sqlite_store, "Story one", topics=["economy"], created_at=NOW - HOUR)
    ctx = Ctx(config, sqlite_store)

    before = await send_due_digests(ctx, NOW.replace(hour=7, minute=59))
    assert before.recorded == 0  # not yet 08:00
    for minute in range(0, 120, 10):
        await send_due_digests(ctx, NOW.replace(minute=0) + minute * HOUR / 60)
    assert len(smtp_server.mailbox.messages) == 1
