"""The documentation contract for the bot: every command is in /help, in the menu and in README.md."""

from __future__ import annotations

import json
import re

from briefing.app import App
from briefing.deliver.telegram.handlers import core_commands
from briefing.service.bot_commands import bot_commands
from tests.support.botapi import BotAPIServer, ask
from tests.support.config import REPO
from tests.telegram.conftest import ADMIN, running


def _telegram_section() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- section: telegram -->(.*)<!-- end section: telegram -->", readme, re.DOTALL)
    assert m, "README.md has no telegram section"
    return m.group(1)


async def test_every_command_is_in_help_menu_and_readme(app: App, botapi: BotAPIServer) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = _telegram_section()
    async with running(app, extra_commands=bot_commands()) as bot:  # with every command the service adds
        names = [c.name for c in bot.commands]
        help_text = await ask(botapi, ADMIN, "/help")
    assert names[:len(core_commands())] == [c.name for c in core_commands()]
    menu = {c["command"] for c in botapi.commands[json.dumps({"chat_id": ADMIN, "type": "chat"}, sort_keys=True)]}
    for name in names:
        assert f"/{name}" in help_text, f"/{name} is missing from /help"
        assert name in menu, f"/{name} is missing from the setMyCommands menu"
        assert f"`/{name}" in readme, f"/{name} is missing from README.md"
    for command in core_commands():
        assert f"`/{command.name}" in section, f"/{command.name} is missing from README.md's telegram section"


async def test_extra_commands_join_help_and_menu(app: App, botapi: BotAPIServer) -> None:
    from briefing.deliver.telegram import Command, CommandRequest

    async def ping(req: CommandRequest) -> None:
        await req.reply("pong")

    async with running(app, extra_commands=[Command("ping", "answer pong", ping, "/ping")]):
        assert "/ping — answer pong" in await ask(botapi, 1, "/help")
        assert "pong" == await ask(botapi, 1, "/ping")
        assert "ping" in {c["command"] for c in botapi.commands['{"type": "default"}']}
