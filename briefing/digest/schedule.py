"""When a digest is due: the one parser of ``HH:MM`` and of time-zone names, and the DST rules.

Every face that takes a digest time or a zone (``/digest``, ``briefing subscriber add``) and the
job that decides what is due read them here, so they agree on what is valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from briefing.errors import ConfigError

# 24-hour clock; one-digit hours are accepted ("7:30") and written back as "07:30".
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# The longest IANA zone name is about 30 characters; subscribers.timezone holds 64 (a very long
# name makes ZoneInfo raise OSError: file name too long).
MAX_ZONE_CHARS = 64


def parse_digest_time(value: str) -> time:
    """``HH:MM`` (24-hour) -> time; a clear error otherwise."""
    m = _HHMM.match(value.strip())
    if m is None:
        raise ConfigError(f"digest time must be HH:MM on a 24-hour clock, e.g. 07:30; got {value!r}")
    return time(int(m.group(1)), int(m.group(2)))


def digest_time_text(value: str) -> str:
    """The stored form of a digest time: ``HH:MM`` with two-digit hours."""
    return f"{parse_digest_time(value):%H:%M}"


def zone(name: str) -> ZoneInfo:
    """An IANA time zone, e.g. ``Europe/Berlin``; a clear error otherwise."""
    try:
        if len(name) > MAX_ZONE_CHARS:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"unknown time zone {name[:MAX_ZONE_CHARS]!r}: use an IANA name such as "
                          "Europe/Berlin or UTC") from None


def scheduled_at(local_date: date, digest_time: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of ``digest_time`` on ``local_date`` in ``tz``.

    Wall-clock based, so 08:00 stays 08:00 local across a DST change. A time that does not
    exist (skipped by a spring-forward) resolves with the pre-transition offset, i.e. it fires
    at the same elapsed moment the clock jumps over (02:30 -> 03:30); an ambiguous time
    (repeated by a fall-back) fires at its first occurrence (PEP 495, ``fold=0``).
    """
    return datetime.combine(local_date, digest_time, tzinfo=tz).astimezone(timezone.utc)


@dataclass(frozen=True)
class DueCheck:
    """The digest a subscriber's clock points at now: its local date, time, and lateness."""

    digest_date: date
    scheduled: datetime
    late: timedelta

    def missed(self, catch_up: timedelta) -> bool:
        return self.late > catch_up


def latest_slot(now: datetime, digest_time: str, tz_name: str) -> DueCheck:
    """The most recent scheduled digest at or before ``now`` (today's, or else yesterday's).

    Only this one slot is ever considered: after days of downtime the subscriber gets one
    digest (covering everything since the last one), never a backlog of stale ones.
    """
    tz, at = zone(tz_name), parse_digest_time(digest_time)
    today = now.astimezone(tz).date()
    slot = scheduled_at(today, at, tz)
    if slot > now:
        today -= timedelta(days=1)
        slot = scheduled_at(today, at, tz)
    return DueCheck(today, slot, now - slot)
