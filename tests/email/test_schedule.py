"""Digests fire at each subscriber's local time (across zones and DST changes); missed runs as configured."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from briefing.service.digests import send_due_digests
from briefing.errors import ConfigError
from briefing.digest import latest_slot, scheduled_at
from briefing.store import Store
from briefing.store.schema import Digest
from tests.email.conftest import Ctx, add_subscriber, email_config, utc
from tests.support.briefs import add_brief
from tests.support.smtp import SmtpServer


def _sent_at(store: Store) -> dict[tuple[int, str], datetime]:
    """(subscriber, local date) -> when the digest was recorded and sent."""
    with store.session() as s:
        return {(d.subscriber_id, d.digest_date): d.period_end for d in s.query(Digest)}


async def _run_clock(ctx: Ctx, start: datetime, end: datetime, step: timedelta = timedelta(minutes=15)) -> None:
    now = start
    while now < end:
        await send_due_digests(ctx, now)
        now += step


async def test_each_subscriber_at_their_local_time_across_dst_changes(
        tmp_path: Path, sqlite_store: Store, smtp_server: SmtpServer) -> None:
    # catch_up_hours=1: only on-time runs count here (missed runs have their own test below).
    ctx = Ctx(email_config(tmp_path, smtp_server.port, catch_up_hours=1), sqlite_store)
    berlin = add_subscriber(sqlite_store, "berlin@example.org", tz="Europe/Berlin", at="08:00")
    new_york = add_subscriber(sqlite_store, "ny@example.org", tz="America/New_York", at="08:00")
    tokyo = add_subscriber(sqlite_store, "tokyo@example.org", tz="Asia/Tokyo", at="07:30")
    add_brief(sqlite_store, "Bakery prices rise", topics=["economy"], created_at=utc(2026, 10, 23, 11))

    # Europe leaves summer time on Sun 25 Oct 2026, the US on Sun 1 Nov 2026.
    await _run_clock(ctx, utc(2026, 10, 23, 12), utc(2026, 11, 2, 18))

    sent = _sent_at(sqlite_store)
    assert sent[(berlin, "2026-10-24")] == utc(2026, 10, 24, 6)  # 08:00 CEST = UTC+2
    assert sent[(berlin, "2026-10-25")] == utc(2026, 10, 25, 7)  # 08:00 CET = UTC+1, the day of the change
    assert sent[(berlin, "2026-10-26")] == utc(2026, 10, 26, 7)
    assert sent[(new_york, "2026-10-31")] == utc(2026, 10, 31, 12)  # 08:00 EDT
    assert sent[(new_york, "2026-11-01")] == utc(2026, 11, 1, 13)  # 08:00 EST
    assert sent[(tokyo, "2026-10-30")] == utc(2026, 10, 29, 22, 30)  # no DST in Japan
    # Exactly one digest per subscriber per local day, none skipped, each at local time.
    for sid, tz, at, first_day in ((berlin, "Europe/Berlin", time(8), 24), (new_york, "America/New_York", time(8), 23),
                                   (tokyo, "Asia/Tokyo", time(7, 30), 24)):
        days = [date(2026, 10, first_day) + timedelta(n) for n in range((date(2026, 11, 2) - date(2026, 10, first_day)).days + 1)]
        mine = {d: when for (s, d), when in sent.items() if s == sid}
        assert mine == {d.isoformat(): scheduled_at(d, at, ZoneInfo(tz)) for d in days}
    # The first digests carried the story; later ones were empty and sent nothing.
    assert [m["To"] for m in smtp_server.mailbox.messages] == ["ny@example.org", "tokyo@example.org",
                                                               "berlin@example.org"]
    for msg in smtp_server.mailbox.messages:
        assert parsedate_to_datetime(msg["Date"]) in sent.values()


def test_times_that_do_not_exist_or_repeat_on_a_dst_day() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 02:30 does not exist on 29 Mar 2026 (clocks jump 02:00 -> 03:00): fires when the clock jumps past it.
    assert scheduled_at(date(2026, 3, 29), time(2, 30), berlin) == utc(2026, 3, 29, 1, 30)
    # 02:30 happens twice on 25 Oct 2026: fires at the first one.
    assert scheduled_at(date(2026, 10, 25), time(2, 30), berlin) == utc(2026, 10, 25, 0, 30)
    slot = latest_slot(utc(2026, 3, 29, 1, 31), "02:30", "Europe/Berlin")
    assert slot.digest_date == date(2026, 3, 29) and slot.late == timedelta(minutes=1)


def test_bad_times_and_zones_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="HH:MM"):
        latest_slot(utc(2026, 1, 1), "8am", "UTC")
    with pytest.raises(ConfigError, match="IANA"):
        latest_slot(utc(2026, 1, 1), "08:00", "Mars/Olympus")


@pytest.mark.parametrize(("catch_up_hours", "late_digest_sent"), [(12, True), (2, False)])
async def test_missed_run_after_downtime(tmp_path: Path, sqlite_store: Store, smtp_server: SmtpServer,
                                         catch_up_hours: float, late_digest_sent: bool) -> None:
    ctx = Ctx(email_config(tmp_path, smtp_server.port, catch_up_hours=catch_up_hours), sqlite_store)
    add_subscriber(sqlite_store, "reader@example.org", at="08:00")
    add_brief(sqlite_store, "Day one story", topics=["economy"], created_at=utc(2026, 11, 1, 6))
    await send_due_digests(ctx, utc(2026, 11, 1, 8))  # day one, on time
    add_brief(sqlite_store, "Day two story", topics=["economy"], created_at=utc(2026, 11, 1, 20))

    # Down from 07:50 to 15:00 on day two: the 08:00 digest is seven hours late.
    report = await send_due_digests(ctx, utc(2026, 11, 2, 15))
    assert (report.sent, report.missed) == ((1, 0) if late_digest_sent else (0, 1))

    add_brief(sqlite_store, "Day three story", topics=["economy"], created_at=utc(2026, 11, 2, 20))
    await send_due_digests(ctx, utc(2026, 11, 3, 8))
    bodies = [m.get_body(preferencelist=("plain",)).get_content() for m in smtp_server.mailbox.messages]
    if late_digest_sent:
        assert len(bodies) == 3 and "Day two story" in bodies[1] and "Day three story" in bodies[2]
    else:  # skipped that day, but its story is not lost: it comes with the next digest
        assert len(bodies) == 2 and "Day two story" in bodies[1] and "Day three story" in bodies[1]
    assert sum("Day two story" in b for b in bodies) == 1  # and never in two digests


async def test_days_of_downtime_give_one_digest_not_a_backlog(tmp_path: Path, sqlite_store: Store,
                                                             smtp_server: SmtpServer) -> None:
    ctx = Ctx(email_config(tmp_path, smtp_server.port), sqlite_store)
    add_subscriber(sqlite_store, "reader@example.org", at="08:00")
    await send_due_digests(ctx, utc(2026, 11, 1, 8))
    for day in (1, 2, 3):
        add_brief(sqlite_store, f"Story of day {day}", topics=["economy"], created_at=utc(2026, 11, day, 12))

    await send_due_digests(ctx, utc(2026, 11, 4, 9))  # back after three days

    [msg] = smtp_server.mailbox.messages
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert all(f"Story of day {d}" in body for d in (1, 2, 3))
    assert msg["Subject"] == "Your briefing for Wed 04 Nov 2026: 3 stories"
