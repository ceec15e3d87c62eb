"""The logic behind the bot's commands, free of Telegram: parse, decide, say it in HTML.

Handlers in :mod:`briefing.deliver.telegram.bot` stay a few lines: they call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from briefing.deliver.telegram.format import esc
from briefing.app import BotStats
from briefing.digest import digest_time_text, zone
from briefing.digest.schedule import MAX_ZONE_CHARS
from briefing.errors import ConfigError
from briefing.models import Source, Subscriber, Subscription

_KINDS = ("topic", "source", "keyword")


class UsageError(ValueError):
    """The user's input was not understood; the message says what is expected."""


@dataclass(frozen=True)
class Target:
    kind: str  # topic | source | keyword
    value: str

    def label(self) -> str:
        return f"{self.kind} <b>{esc(self.value)}</b>"


def resolve_target(text: str, topics: list[str], sources: list[str]) -> Target:
    """``topic:x``/``source:x``/``keyword:x`` explicitly; else a known topic, a source, or a keyword."""
    text = " ".join(text.split())
    if not text:
        raise UsageError("Say what to follow: a topic, a source or a keyword, e.g. /subscribe climate")
    if len(text) > 100:
        raise UsageError("That is too long to follow: keep it under 100 characters.")
    kind, sep, rest = text.partition(":")
    if sep and kind.casefold() in _KINDS and rest.strip():
        return Target(kind.casefold(), rest.strip().casefold())
    low = text.casefold()
    if low in topics:
        return Target("topic", low)
    if low in (s.casefold() for s in sources):
        return Target("source", low)
    return Target("keyword", low)


def subscriptions_text(subs: list[Subscription]) -> str:
    if not subs:
        return ("You follow nothing yet. Use /subscribe with a topic, a source or a keyword, "
                "or tap a button below.")
    lines = ["<b>You follow</b>"] + [f"• {s.kind} <b>{esc(s.value)}</b>" for s in subs]
    return "\n".join(lines)


# Browsers and servers commonly cap URLs near 2,000 characters; anything longer is not a news link.
MAX_URL_CHARS = 2048


def check_url_length(url: str) -> None:
    """A URL longer than :data:`MAX_URL_CHARS` is refused before anything echoes or fetches it."""
    if len(url) > MAX_URL_CHARS:
        raise UsageError(f"That link is {len(url):,} characters long; I only read links of up to "
                         f"{MAX_URL_CHARS:,} characters.")


def parse_digest(args: list[str]) -> tuple[str | None, str | None]:
    """``HH:MM [timezone]`` -> ("HH:MM", tz or None); ``off`` -> (None, None). Raises UsageError."""
    if len(args) == 1 and args[0].casefold() == "off":
        return None, None
    if not args or len(args) > 2:
        raise UsageError("Use /digest HH:MM [timezone], e.g. /digest 07:30 Europe/Berlin, or /digest off")
    try:
        at = digest_time_text(args[0])
    except ConfigError:
        raise UsageError(f"{esc(args[0])} is not a time: use 24-hour HH:MM, e.g. 07:30") from None
    tz = args[1] if len(args) == 2 else None
    if tz is not None:
        try:
            zone(tz)
        except ConfigError:
            tz = tz[:MAX_ZONE_CHARS] + ("…" if len(tz) > MAX_ZONE_CHARS else "")
            raise UsageError(f"{esc(tz)} is not a time zone I know: use a name like Europe/Berlin "
                             "or America/New_York") from None
    return at, tz


def settings_text(sub: Subscriber, subs: list[Subscription]) -> str:
    """Everything stored about a subscriber, in their words."""
    at = f"{sub.digest_time} ({esc(sub.timezone)})"
    digest = at if sub.digest_telegram and sub.digest_time else "off"
    # /digest sets the time for both channels; the email digest runs while the address is verified.
    email_digest = at if sub.email and sub.email_verified and sub.digest_time else "off"
    lines = [
        "<b>Your settings</b>",
        f"Chat id: <code>{sub.telegram_chat_id}</code>",
        f"Name: {esc(sub.display_name or '—')}",
        f"Active: {'yes' if sub.active else 'no'}",
        f"Daily digest here: {digest}",
        f"Daily digest by email: {email_digest}",
        f"Time zone: {esc(sub.timezone)}",
        f"Email: {esc(sub.email or '—')}" + (" (verified)" if sub.email and sub.email_verified else ""),
        f"Subscribed since: {sub.created_at:%Y-%m-%d}",
        "",
        subscriptions_text(subs),
        "",
        "/stop delete removes all of this.",
    ]
    return "\n".join(lines)


def sources_text(sources: list[Source]) -> str:
    if not sources:
        return "No sources yet. Add one with /addsource &lt;url&gt;."
    lines = ["<b>Sources</b>"]
    for s in sources:
        state = "active" if s.active else "inactive"
        err = f" — last error: {esc(s.last_error[:120])}" if s.last_error else ""
        lines.append(f"• <b>{esc(s.name)}</b> ({esc(s.kind)}, {state}) <code>{esc(s.location)}</code>{err}")
    return "\n".join(lines)


def source_name_for(url: str, taken: set[str]) -> str:
    """A unique source name from a URL's host: ``example.com``, then ``example.com-2``…"""
    usage = "Give an http(s) URL of a feed or page, e.g. /addsource https://example.com/feed.xml"
    check_url_length(url)
    try:  # a malformed URL (http://[::1/x, a bad port) is a usage error, not a crash (issue 8)
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
        host = parts.hostname
    except ValueError:
        raise UsageError(f"That is not a valid URL. {usage}") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise UsageError(usage)
    base = host.removeprefix("www.")
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def stats_text(stats: BotStats) -> str:
    deliveries = ", ".join(f"{k} {v}" for k, v in sorted(stats.deliveries.items())) or "none"
    return "\n".join([
        "<b>Stats</b>",
        f"Subscribers: {stats.subscribers_active} active, {stats.subscribers_inactive} inactive",
        f"Subscriptions: {stats.subscriptions}",
        f"Briefs in the last 24 h: {stats.briefs_24h}",
        f"Telegram and email deliveries: {deliveries}",
    ])
