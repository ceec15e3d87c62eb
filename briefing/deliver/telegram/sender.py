"""Draining pending Telegram deliveries: claim, send, store each outcome.

A delivery row exists before anything is sent (``App.queue_deliveries``), so a crash or a
restart loses nothing: a later drain claims what is still pending. Deliveries are claimed in
small batches and each send is followed at once by recording its outcome; a stop in the middle
lets the sends in flight finish and be recorded, and puts the rest of the batch back to
pending. What an error means is decided by :func:`briefing.errors.classify` after
:func:`~briefing.deliver.telegram.flood.delivery_error` has translated it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from datetime import datetime, timedelta

from telegram.error import TelegramError

from briefing.blocking import blocking
from briefing.config import TelegramConfig
from briefing.deliver.telegram.flood import ChatMoved, delivery_error
from briefing.deliver.telegram.format import brief_html, html_to_text, split_html
from briefing.errors import Action, RateLimited, StoreConflict, classify
from briefing.models import Delivery, utcnow
from briefing.store import Store

log = logging.getLogger(__name__)

CHANNEL = "telegram"
# How many deliveries one claim takes. Small, so a crash strands few rows in 'sending'
# (they are reclaimed after the store's stale window), yet enough to keep the rate up.
BATCH = 32

# Sends text to a chat and returns the message ids (the bot's send_html / send_plain).
Send = Callable[[int, str], Awaitable[list[int]]]


@dataclass
class DrainReport:
    """What one drain did. ``would_send`` counts deliveries only logged in a dry run."""

    claimed: int = 0
    sent: int = 0
    retry_later: int = 0
    failed: int = 0
    deactivated: int = 0
    released: int = 0
    would_send: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Messages sent per second over the drain."""
        return self.sent / self.seconds if self.seconds > 0 else 0.0


class DeliverySender:
    """Sends claimed deliveries through ``send_html`` (the bot's, rate limited) and records outcomes."""

    def __init__(self, store: Store, config: TelegramConfig, send_html: Send, send_plain: Send, *,
                 concurrency: int = 16, clock: Callable[[], datetime] = utcnow,
                 keyboard_for: Callable[[int], Any] | None = None) -> None:
        self.store, self.config = store, config
        self._send_html, self._send_plain = send_html, send_plain
        # Sends in flight at once (each waits its turn in the flood limiter); a stop lets these
        # finish and releases the rest of the batch.
        self.concurrency = concurrency
        self.clock = clock
        self.stopping = False
        # Inline buttons for a brief (issue 12: follow its story, report a problem); None: none.
        self.keyboard_for = keyboard_for
        # Message ids of the parts sent so far, by delivery id (a claimed row is a frozen record).
        self._parts: dict[int, str | None] = {}

    async def drain(self, limit: int = 1000) -> DrainReport:
        """Claim and send up to ``limit`` due deliveries; returns when none are due or on stop.

        Each brief is read and rendered once per drain, however many chats it goes to (issue 13):
        the claimed batch's briefs and subscribers are read in one query each.
        """
        report = DrainReport()
        started = time.monotonic()
        rendered: dict[int, list[str] | None] = {}  # brief id -> its message parts (None: deleted)
        keyboards: dict[int, Any] = {}  # brief id -> its buttons (issue 12), built once per drain too
        while report.claimed < limit and not self.stopping:
            batch = await blocking(self.store.claim_deliveries, CHANNEL,
                                            limit=min(BATCH, limit - report.claimed), now=self.clock())
            if not batch:
                break
            report.claimed += len(batch)
            await self._send_batch(batch, rendered, keyboards, report)
        report.seconds = time.monotonic() - started
        return report

    def _render_missing(self, batch: list[Delivery], rendered: dict[int, list[str] | None],
                        keyboards: dict[int, Any]) -> dict[int, int | None]:
        """Render the batch's briefs not rendered yet in this drain; the batch's chats (one query each)."""
        new = {d.brief_id for d in batch} - rendered.keys()
        briefs = self.store.get_briefs(list(new))
        for brief_id in new:
            brief = briefs.get(brief_id)
            # The parts are a pure function of the stored brief: a retry splits them the same way.
            rendered[brief_id] = None if brief is None else split_html(brief_html(brief))
            keyboards[brief_id] = self.keyboard_for(brief_id) if self.keyboard_for and brief else None
        return dict(self.store.active_chats([d.subscriber_id for d in batch]))

    async def _send_batch(self, batch: list[Delivery], rendered: dict[int, list[str] | None],
                          keyboards: dict[int, Any], report: DrainReport) -> None:
        chats = await blocking(self._render_missing, batch, rendered, keyboards)
        # One chat's deliveries go in order; different chats go concurrently (the flood
        # limiter spaces them).
        by_subscriber: dict[int, list[Delivery]] = {}
        for d in batch:
            by_subscriber.setdefault(d.subscriber_id, []).append(d)
        gate = asyncio.Semaphore(self.concurrency)

        async def run(group: list[Delivery]) -> None:
            async with gate:
                for i, delivery in enumerate(group):
                    if self.stopping:
                        ids = [d.id for d in group[i:]]
                        n = await blocking(self.store.release_deliveries, ids, "not sent: bot stopping")
                        report.released += n
                        return
                    # Shielded: a cancelled drain still records the outcome of a send in flight.
                    await asyncio.shield(self._deliver(delivery, chats, rendered.get(delivery.brief_id),
                                                       keyboards.get(delivery.brief_id), report))

        await asyncio.gather(*(run(g) for g in by_subscriber.values()))

    async def _deliver(self, delivery: Delivery, chats: dict[int, int | None], parts: list[str] | None,
                       keyboard: Any, report: DrainReport) -> None:
        """Send one delivery to the chat read with its batch. ``chats`` maps a subscriber deactivated
        during this batch to None (its rows are failed already) and follows a moved group."""
        sid = delivery.subscriber_id
        if sid in chats and chats[sid] is None:  # deactivated by an earlier send of this batch
            report.failed += 1
            return
        chat_id = chats.get(sid)
        if chat_id is None or parts is None:
            why = "brief no longer exists" if parts is None else "subscriber inactive or has no chat"
            await blocking(self.store.mark_delivery_failed, delivery.id, why)
            report.failed += 1
            return
        try:
            await self._send_and_record(delivery, chat_id, parts, keyboard, report, chats)
        finally:
            self._parts.pop(delivery.id, None)  # what was sent is recorded now, or claimed again later

    async def _send_and_record(self, delivery: Delivery, chat_id: int, parts: list[str], keyboard: Any,
                               report: DrainReport, chats: dict[int, int | None]) -> None:
        try:
            # Buttons under a pushed brief (issue 12) go on its last part.
            await self._send_parts(delivery, chat_id, parts, self._send_html, keyboard)
        except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
            await self._on_error(delivery, chat_id, parts, exc, report, chats)
            return
        # Recording "sent" also records the last part's message id: one transaction per message.
        await blocking(self.store.mark_delivery_sent, delivery.id, self._sent_ids(delivery))
        report.sent += 1

    def _sent_ids(self, delivery: Delivery) -> str | None:
        """The message ids of the parts of ``delivery`` sent so far, comma-separated."""
        return self._parts.get(delivery.id, delivery.external_id)

    async def _send_parts(self, delivery: Delivery, chat_id: int, parts: list[str], send: Send,
                          keyboard: Any = None) -> None:
        """Send the parts not sent yet, recording each one as it is accepted (issue 8, row 4).

        ``external_id`` holds the message ids of the parts Telegram accepted so far, so a retry
        after a failure in the middle (or a crash) sends only what is missing, never part 1 twice.
        Every part but the last is recorded here, at once; the last one is recorded by the caller
        in the same transaction that marks the delivery sent (no other step comes between).
        """
        done = [x for x in (self._sent_ids(delivery) or "").split(",") if x]
        for n in range(len(done), len(parts)):
            last = n == len(parts) - 1
            ids = await (send(chat_id, parts[n], keyboard) if last and keyboard is not None  # type: ignore[call-arg]
                         else send(chat_id, parts[n]))
            done += [str(i) for i in ids] or ["0"]  # a dry run returns no id: still one part done
            sent = self._parts[delivery.id] = ",".join(done)
            if n < len(parts) - 1:
                await blocking(self.store.record_delivery_parts, delivery.id, sent)

    async def _on_error(self, delivery: Delivery, chat_id: int, parts: list[str], exc: Exception,
                        report: DrainReport, chats: dict[int, int | None]) -> None:
        error = delivery_error(exc) if isinstance(exc, TelegramError) else exc
        action = classify(error)
        text = f"{type(error).__name__}: {error}"
        report.errors.append(f"delivery {delivery.id} to chat {chat_id}: {text}")
        if action is Action.DEACTIVATE_RECIPIENT:
            # https://core.telegram.org/bots/faq: a blocked bot gets 403 for that chat for good.
            log.info("deactivating subscriber %s: %s", delivery.subscriber_id, error)
            await blocking(self.store.deactivate_subscriber, delivery.subscriber_id, str(error))
            chats[delivery.subscriber_id] = None
            report.deactivated += 1
            return
        if action is Action.RESEND_PLAIN:
            try:  # the parts already accepted stay; the rest go as plain text
                await self._send_parts(delivery, chat_id, parts, self._send_plain_part)
            except Exception as again:  # noqa: BLE001 - recorded below
                await blocking(self.store.mark_delivery_failed, delivery.id, f"{text}; plain text: {again}")
                report.failed += 1
                return
            await blocking(self.store.mark_delivery_sent, delivery.id, self._sent_ids(delivery))
            report.sent += 1
            return
        if isinstance(error, ChatMoved):
            if await self._follow_move(delivery, error):  # send again at once, to the new id
                chats[delivery.subscriber_id] = error.new_chat_id
                await blocking(self.store.mark_delivery_retry, delivery.id, text, self.clock())
                report.retry_later += 1
            else:  # the new chat is subscribed on its own: this one is gone
                await blocking(self.store.deactivate_subscriber, delivery.subscriber_id, str(error))
                chats[delivery.subscriber_id] = None
                report.deactivated += 1
            return
        if action is Action.RETRY_LATER and self.still_news(delivery):
            delay = error.retry_after if isinstance(error, RateLimited) else self.backoff(delivery.attempts)
            await blocking(self.store.mark_delivery_retry, delivery.id, text,
                                    self.clock() + timedelta(seconds=delay))
            report.retry_later += 1
            return
        if action is Action.FAIL:
            log.error("unexpected error delivering %s", delivery.id, exc_info=exc)
        elif action is Action.RETRY_LATER:
            text = (f"gave up after {delivery.attempts} attempts: the brief is older than "
                    f"telegram.retry_max_age_hours ({self.config.retry_max_age_hours:g} h): {text}")
        await blocking(self.store.mark_delivery_failed, delivery.id, text)
        report.failed += 1

    async def _send_plain_part(self, chat_id: int, part: str) -> list[int]:
        return await self._send_plain(chat_id, html_to_text(part))

    def still_news(self, delivery: Delivery) -> bool:
        """A transient failure is retried for as long as the delivery (queued with its brief) is
        younger than ``telegram.retry_max_age_hours``: an outage of hours loses nothing."""
        age = self.clock() - delivery.created_at
        return age < timedelta(hours=self.config.retry_max_age_hours)

    async def _follow_move(self, delivery: Delivery, moved: ChatMoved) -> bool:
        """Point the subscriber at the group's new chat id; False if another subscriber has it."""
        try:
            await blocking(self.store.update_subscriber, delivery.subscriber_id,
                                    telegram_chat_id=moved.new_chat_id)
        except StoreConflict:
            return False
        return True

    def backoff(self, attempts: int) -> float:
        """Seconds before the next try after ``attempts`` failed ones: doubling, capped."""
        cfg = self.config
        return min(cfg.retry_max_seconds, cfg.retry_base_seconds * 2 ** max(0, attempts - 1))
