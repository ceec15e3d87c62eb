"""What a command is, and what its handler gets: the parsed request and ways to answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup, Message, Update

from briefing.app import App
from briefing.blocking import blocking
from briefing.models import Subscriber

if TYPE_CHECKING:
    from briefing.deliver.telegram.bot import TelegramBot


Handler = Callable[["CommandRequest"], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    """One bot command: it gets a handler, a line in ``/help`` and an entry in the menu.

    ``usage`` is shown in ``/help`` (e.g. ``/digest HH:MM [timezone]``); ``admin`` commands
    answer only Telegram user ids in ``telegram.admins`` (everyone else gets a polite refusal)
    and appear in the menu of admins' private chats only.
    """

    name: str
    description: str
    handler: Handler
    usage: str = ""
    admin: bool = False


@dataclass
class CommandRequest:
    """What a handler gets: the parsed command, who sent it, and ways to answer."""

    bot: "TelegramBot"
    update: Update
    args: list[str]

    @property
    def app(self) -> App:
        return self.bot.app

    @property
    def chat_id(self) -> int:
        assert self.update.effective_chat is not None
        return self.update.effective_chat.id

    @property
    def user_id(self) -> int | None:
        return self.update.effective_user.id if self.update.effective_user else None

    @property
    def text(self) -> str:
        return " ".join(self.args)

    @property
    def message(self) -> Message:
        assert self.update.effective_message is not None
        return self.update.effective_message

    async def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a blocking library call (database, fetch) off the event loop."""
        return await blocking(func, *args, **kwargs)

    async def subscriber(self, reactivate: bool = False) -> Subscriber:
        """This chat's subscriber, created on first contact; ``reactivate`` undoes a /stop."""
        existing = None if reactivate else await self.run(self.app.chat_subscriber, self.chat_id)
        if existing is not None:
            return existing
        user = self.update.effective_user
        name = user.full_name if user else None
        return await self.run(self.app.register_chat, self.chat_id, user_id=self.user_id, display_name=name)

    async def reply(self, html_text: str, keyboard: InlineKeyboardMarkup | None = None) -> list[Message]:
        """Answer in this chat (HTML, split if long; the keyboard goes on the last part)."""
        return await self.bot.send(self.chat_id, html_text, keyboard=keyboard)
