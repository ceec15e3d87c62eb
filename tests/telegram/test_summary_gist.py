"""/summary answers at once with the extractive brief, then edits the same message when the gist arrives.

The gist model is replaced by a coroutine here (its own tests are in tests/summarise/test_gist.py):
what is tested is the Telegram side — one answer first, the same message edited in place, and an
answer that stays as it is when the gist is late or missing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest

from briefing.models import Brief
from briefing.app import App
from briefing.summarise.base import Document
from tests.builders import article_text
from tests.support.botapi import BotAPIServer, parse_html
from tests.telegram.conftest import running

CHAT = 701
GIST = "Mayor Anna Berg said the harbour plan would go ahead despite protests."


def _original() -> dict[str, object]:
    return {"message_id": 1, "date": 0, "chat": {"id": CHAT, "type": "private"},
            "text": "Harbour plan goes ahead\n\n" + article_text()}


async def test_the_answer_is_edited_in_place_with_the_gist(app: App, botapi: BotAPIServer) -> None:
    async def improve(brief: Brief, doc: Document) -> Brief:
        await asyncio.sleep(0.3)  # the model takes a moment; the extractive answer is already there
        return dataclasses.replace(brief, gist=GIST)

    async with running(app, improve=improve):
        botapi.push_message(CHAT, "/summary", reply_to=_original())
        first = (await botapi.wait_for("editMessageText", 1, chat_id=CHAT))[0]
        edits = await botapi.wait_for("editMessageText", 2, chat_id=CHAT)
    before, after = parse_html(first.params["text"]), parse_html(edits[1].params["text"])
    assert "machine-written" not in before and "Anna Berg" in before
    assert edits[1].params["message_id"] == first.params["message_id"]  # the same message, edited
    assert after.index("In short (machine-written): " + GIST) < after.index("Key facts")
    assert len(botapi.sent(CHAT)) == 1  # one message: the placeholder, edited twice


async def test_a_late_gist_leaves_the_answer_extractive_and_says_so_in_the_log(
        app: App, botapi: BotAPIServer, caplog: pytest.LogCaptureFixture) -> None:
    async def improve(brief: Brief, doc: Document) -> Brief:
        await asyncio.sleep(5)
        return dataclasses.replace(brief, gist=GIST)

    caplog.set_level(logging.INFO)
    async with running(app, improve=improve) as bot:
        bot.gist_timeout = 0.3
        botapi.push_message(CHAT, "/summary", reply_to=_original())
        await botapi.wait_for("editMessageText", 1, chat_id=CHAT)
        await asyncio.sleep(1.0)
    assert len(botapi.sent(CHAT, "editMessageText")) == 1
    assert "machine-written" not in parse_html(botapi.sent(CHAT, "editMessageText")[0].params["text"])
    assert any("no gist within 0.3s" in r.getMessage() for r in caplog.records)
