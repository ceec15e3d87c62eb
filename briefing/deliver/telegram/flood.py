"""Telegram's flood limits, and what a Bot API error means for a delivery.

Limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
about 30 messages a second overall, no more than one a second to one chat, and no more than 20
a minute to one group (groups and channels have negative chat ids). When a bot
goes faster, Telegram answers 429 with ``parameters.retry_after`` and nothing may be sent
until that many seconds have passed (https://core.telegram.org/bots/api#responseparameters).

:class:`FloodLimiter` is python-telegram-bot's rate-limiter hook, so every message the bot
sends — command answers, pushed briefs, digests — shares one budget. :func:`delivery_error`
turns a python-telegram-bot exception into one of our delivery errors, which
:func:`briefing.errors.classify` maps to an action.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from briefing.errors import (
    DeliveryError,
    MarkupRejected,
    PermanentDeliveryError,
    RateLimited,
    RecipientGone,
)

log = logging.getLogger(__name__)

# Methods that post a message to a chat; getUpdates and the like are never held back.
MESSAGE_METHODS = frozenset({"sendMessage", "editMessageText", "sendPhoto", "sendDocument",
                             "copyMessage", "forwardMessage"})
# 400 descriptions that mean the recipient is gone for good (the chat was deleted, the user
# deactivated their account, the bot was removed from a group).
_GONE = ("chat not found", "user is deactivated", "bot was kicked", "peer_id_invalid",
         "group chat was deactivated", "have no rights to send")


class ChatMoved(DeliveryError):
    """A group became a supergroup with a new chat id: send there instead (classified as retry).

    https://core.telegram.org/bots/api#responseparameters (``migrate_to_chat_id``).
    """

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"the group moved to chat {new_chat_id}")
        self.new_chat_id = new_chat_id


def retry_after_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds whatever python-telegram-bot's setting (int or timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def delivery_error(exc: TelegramError) -> DeliveryError:
    """The delivery error a Bot API failure amounts to (classify() decides what to do)."""
    text = str(exc)
    if isinstance(exc, RetryAfter):
        return RateLimited(text, retry_after_seconds(exc))
    if isinstance(exc, Forbidden):  # 403: "bot was blocked by the user", "user is deactivated"
        return RecipientGone(text)
    if isinstance(exc, ChatMigrated):
        return ChatMoved(exc.new_chat_id)
    if isinstance(exc, BadRequest):
        low = text.lower()
        if any(marker in low for marker in _GONE):
            return RecipientGone(text)
        if "can't parse entities" in low:
            return MarkupRejected(text)
        return PermanentDeliveryError(text)
    if isinstance(exc, InvalidToken):  # a revoked token: the briefs wait for a new one, not lost
        return DeliveryError(f"the bot token was refused: {text}")
    return DeliveryError(text)  # network errors, timeouts, 5xx: worth another try


class FloodLimiter(BaseRateLimiter[None]):
    """Spaces messages to ``messages_per_second`` overall and ``per_chat_interval`` per chat.

    A group or channel also gets at most ``group_messages_per_minute`` messages a minute (spaced
    evenly, so no 60-second window ever holds more).

    On 429 every send waits ``retry_after`` (the whole bot is throttled), then the request is
    tried again, up to ``max_retries`` times; after that :class:`telegram.error.RetryAfter`
    reaches the caller. ``sleep`` and ``clock`` are injectable for tests and the benchmark.
    """

    def __init__(self, messages_per_second: float, per_chat_interval: float, max_retries: int, *,
                 group_messages_per_minute: float = 20.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.interval = 1.0 / messages_per_second
        self.per_chat_interval = per_chat_interval
        self.group_interval = max(per_chat_interval, 60.0 / group_messages_per_minute)
        self.max_retries = max_retries
        self._clock, self._sleep = clock, sleep
        self._last_send = float("-inf")
        self._paused_until = 0.0
        self._turn = asyncio.Lock()
        self._chat_next: dict[object, float] = {}
        self._chat_locks: dict[object, asyncio.Lock] = {}

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def pause(self, seconds: float) -> None:
        """Hold every send for ``seconds`` (Telegram's retry_after applies to the whole bot)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: None) -> Any:
        if endpoint not in MESSAGE_METHODS:
            return await callback(*args, **kwargs)
        chat = data.get("chat_id")
        lock = self._chat_locks.setdefault(chat, asyncio.Lock())
        async with lock:  # one message at a time per chat keeps their order and spacing
            try:
                return await self._send_with_retries(callback, args, kwargs, chat)
            finally:
                if not lock._waiters:  # noqa: SLF001 - drop idle per-chat state, it grows with chats
                    self._chat_locks.pop(chat, None)
                    if self._chat_next.get(chat, 0.0) <= self._clock():
                        self._chat_next.pop(chat, None)

    async def _send_with_retries(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                                 kwargs: dict[str, Any], chat: object) -> Any:
        for attempt in range(self.max_retries + 1):
            await self._wait_turn(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                self.pause(seconds)
                log.warning("Telegram flood control: waiting %.1f s (attempt %d of %d)",
                            seconds, attempt + 1, self.max_retries + 1)
                if attempt == self.max_retries:
                    raise
        raise AssertionError("unreachable")

    async def _wait_turn(self, chat: object) -> None:
        # The caller holds this chat's lock, so the chat's own spacing needs no reservation.
        chat_wait = self._chat_next.get(chat, 0.0) - self._clock()
        if chat_wait > 0:
            await self._sleep(chat_wait)
        # Senders take turns under one lock, each spaced a full interval from the previous
        # *actual* send: no second ever holds more than the limit, and a stalled event loop
        # delays the sends after it instead of releasing them in a burst. (Timer lateness costs
        # a few percent of the rate; a 429 would cost far more.)
        async with self._turn:
            while (wait := max(self._last_send + self.interval, self._paused_until) - self._clock()) > 0:
                await self._sleep(wait)  # re-checked: a 429 seen meanwhile moves the pause
            self._last_send = self._clock()
        self._chat_next[chat] = self._last_send + self.chat_interval(chat)

    def chat_interval(self, chat: object) -> float:
        """Minimum gap between two messages to ``chat``: longer for groups and channels.

        Bot API chat ids of groups, supergroups and channels are negative; a channel may also
        be addressed by ``@username``.
        """
        is_group = (isinstance(chat, int) and chat < 0) or (isinstance(chat, str) and
                                                            (chat.startswith("@") or chat.startswith("-")))
        return self.group_interval if is_group else self.per_chat_interval
