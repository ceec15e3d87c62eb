"""The daily digest in Telegram: its HTML messages, and the channel adapter the digest job sends
through (:class:`briefing.digest.job.DigestChannel`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram.error import TelegramError

from briefing.deliver.telegram.flood import delivery_error
from briefing.deliver.telegram.format import esc, link, split_html
from briefing.digest import DigestContent, numbered, story_view, zone
from briefing.models import GIST_LABEL, Digest, Subscriber
from briefing.store import Store

SendHtml = Callable[[int, str], Awaitable[object]]


def telegram_digest(content: DigestContent, tz: ZoneInfo | None = None) -> list[str]:
    """The digest as Telegram HTML messages (split at paragraph boundaries when too long)."""
    tz = tz or zone(content.timezone)
    parts = [f"<b>Your briefing for {esc(f'{content.digest_date:%a %d %b %Y}')}</b>"]
    if content.is_empty:
        parts.append("No new stories matched your subscriptions since your last digest.")
    for label, items in numbered(content):
        parts.append(f"<b>{esc(label.upper())}</b>")
        for number, item in items:
            story = story_view(item, number, tz)
            gist = [f"<i>{esc(GIST_LABEL)}:</i> {esc(item.brief.gist)}"] if item.brief.gist else []
            lines = [f"<b>{number}. {esc(item.brief.headline)}</b>", *gist, esc(item.brief.summary_text)]
            lines += [f"• <b>{esc(a.name)}</b> — {esc(a.position)}" for a in item.brief.actors]
            meta = str(story["meta"]) + (f" · {item.sources} sources" if item.sources > 1 else "")
            tail = f"<i>{esc(meta)}</i>" if meta else ""
            if story["url"]:
                tail += (" · " if tail else "") + link(str(story["url"]), "Read")
            parts.append("\n".join(line for line in [*lines, tail] if line))
    if content.omitted:
        parts.append(f"<i>{content.omitted} more matching stories were left out.</i>")
    return split_html("\n\n".join(parts))


class TelegramDigests:
    """Sends digests as Telegram messages through ``send_html(chat_id, html)`` (the bot's)."""

    name = "telegram"
    unwanted = "no Telegram digest any more"

    def __init__(self, store: Store, send_html: SendHtml) -> None:
        self.store, self.send_html = store, send_html

    def wants(self, sub: Subscriber) -> bool:
        return sub.digest_telegram and sub.telegram_chat_id is not None

    def message_id(self, sub: Subscriber) -> str | None:
        return None  # message_id counts the parts already delivered (see send)

    async def send(self, digest: Digest, sub: Subscriber, content: DigestContent, now: datetime) -> None:
        assert sub.telegram_chat_id is not None
        parts = telegram_digest(content)
        # message_id counts the parts already delivered, so a retry never repeats a part.
        done = int(digest.message_id or 0)
        for i in range(done, len(parts)):
            try:
                await self.send_html(sub.telegram_chat_id, parts[i])
            except TelegramError as exc:  # 403 blocked, 429 flood, ...: as the bot's own sender reads them
                raise delivery_error(exc) from exc
            self.store.update_digest(digest.id, message_id=str(i + 1))

    def recipient_gone(self, subscriber_id: int, error: Exception) -> None:
        self.store.deactivate_subscriber(subscriber_id, f"telegram: {error}")
