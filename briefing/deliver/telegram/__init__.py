"""Telegram delivery: the bot (commands, pushed briefs, on-demand summaries) and its sender.

Public API: :class:`TelegramBot` (what ``briefing run`` holds), :class:`Command` and
:class:`CommandRequest` (to add commands), :class:`DrainReport` (what a delivery run did).
"""

from briefing.deliver.telegram.bot import TelegramBot
from briefing.deliver.telegram.request import Command, CommandRequest
from briefing.deliver.telegram.sender import DrainReport

__all__ = ["Command", "CommandRequest", "DrainReport", "TelegramBot"]
