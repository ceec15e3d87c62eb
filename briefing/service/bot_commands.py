"""Every command the bot has beyond its core ones: one list, registered explicitly (no discovery)."""

from __future__ import annotations

from briefing.deliver.telegram import Command
from briefing.deliver.telegram.story_commands import COMMANDS as STORY_COMMANDS
from briefing.service.email_commands import COMMANDS as EMAIL_COMMANDS


def bot_commands() -> list[Command]:
    """``/email`` and ``/verify``, then the story commands (``/follow``, ``/stories`` ...)."""
    return [*EMAIL_COMMANDS, *STORY_COMMANDS]
