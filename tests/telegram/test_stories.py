"""Following a story over the local Bot API server: the buttons under a pushed brief, exactly one
"What's new" when a new article adds a fact, none when a copy adds nothing; reports and corrections."""

from __future__ import annotations

import asyncio

from briefing.deliver.telegram.story_commands import COMMANDS, send_story_updates, stories_of
from briefing.ingest.dedup import fingerprint
from briefing.models import Brief
from briefing.app import App
from tests.stories.fixtures import COPY, LEDGER, UPDATE, WIRE
from tests.support.botapi import BotAPIServer, ask
from tests.telegram.conftest import ADMIN, running

CHAT = 4242


def add(app: App, draft, *, brief: bool = False) -> int:  # type: ignore[no-untyped-def]
    row = app.store.add_article(draft, source_name=None, fingerprint=fingerprint(draft.text))
    assert row is not None
    if brief:
        b = Brief(headline=draft.title, summary=[draft.text.split("\n")[0]], actors=[], engine="extractive",
                  topics=["politics"])
        bid = app.store.save_brief(row.id, b, f"k{row.id}")
        app.queue_deliveries(bid)
    return row.id


def _outlet(app: App, draft) -> None:  # type: ignore[no-untyped-def]
    """Stories name outlets by source; give each fixture its outlet as the source."""
    from briefing.store.schema import Article, Source

    with app.store.session() as s:
        src = s.query(Source).filter_by(name=draft.source_name).one_or_none()
        if src is None:
            src = Source(name=draft.source_name, kind="feed", location="http://127.0.0.1:9/x")
            s.add(src)
            s.flush()
        s.query(Article).filter_by(url=draft.url).update({"source_id": src.id})


async def settle(botapi: BotAPIServer, chat_id: int, before: int) -> int:
    await asyncio.sleep(0.3)
    return len(botapi.sent(chat_id)) - before


async def test_follow_button_then_one_whats_new_for_a_new_fact_none_for_a_copy(
        botapi: BotAPIServer, app: App) -> None:
    async with running(app, extra_commands=COMMANDS) as bot:
        await ask(botapi, CHAT, "/subscribe politics")
        for d in (LEDGER, WIRE):
            add(app, d, brief=d is LEDGER)
            _outlet(app, d)
        await bot.drain_deliveries()
        pushed = botapi.sent(CHAT)[-1]
        buttons = [b for row in pushed.params["reply_markup"]["inline_keyboard"] for b in row]
        assert [b["text"] for b in buttons] == ["Follow this story", "Report a problem"]
        follow = next(b["callback_data"] for b in buttons if b["text"] == "Follow this story")
        msg = botapi.messages[(CHAT, max(m for c, m in botapi.messages if c == CHAT))]
        # Load spaCy and MiniLM first (seconds on a busy machine); the press still clusters the
        # articles into a story on demand.
        await asyncio.to_thread(lambda: stories_of(app).extractor)
        assert stories_of(app).db.story_of_article(1) is None
        before = len(botapi.sent(CHAT))
        botapi.push_button(CHAT, follow, msg)
        await botapi.wait_for("sendMessage", before + 1, chat_id=CHAT, timeout=60)
        assert "Following" in botapi.texts(CHAT)[-1]
        sid = stories_of(app).db.story_of_article(1)
        assert stories_of(app).db.followed(app.store.subscriber_by_chat(CHAT).id) == [sid]

        add(app, COPY)  # a syndicated copy from a third outlet: nothing new
        _outlet(app, COPY)
        before = len(botapi.sent(CHAT))
        assert await send_story_updates(bot) == 0
        assert await settle(botapi, CHAT, before) == 0
        assert len(stories_of(app).db.get_story(sid).brief.outlets) == 3

        add(app, UPDATE)  # a new fact: two board members voted for a cut
        _outlet(app, UPDATE)
        assert await send_story_updates(bot) == 1
        await botapi.wait_for("sendMessage", before + 1, chat_id=CHAT)
        assert await send_story_updates(bot) == 0  # told once
        assert await settle(botapi, CHAT, before) == 1
        text = botapi.texts(CHAT)[-1]
        assert text.startswith("What's new") and "voted to cut" in text
        assert "kept its main interest rate" not in text


async def test_report_a_problem_is_stored_and_the_admin_lists_and_rechecks_it(
        botapi: BotAPIServer, app: App) -> None:
    async with running(app, extra_commands=COMMANDS) as bot:
        await ask(botapi, CHAT, "/subscribe politics")
        add(app, LEDGER, brief=True)
        _outlet(app, LEDGER)
        await bot.drain_deliveries()
        msg = botapi.messages[(CHAT, max(m for c, m in botapi.messages if c == CHAT))]
        before = len(botapi.sent(CHAT))
        await asyncio.to_thread(lambda: stories_of(app).extractor)
        botapi.push_button(CHAT, "story:r:a1", msg)
        await botapi.wait_for("sendMessage", before + 1, chat_id=CHAT)
        kinds = [b["callback_data"] for row in botapi.sent(CHAT)[-1].params["reply_markup"]["inline_keyboard"]
                 for b in row]
        assert kinds == ["story:k:a1:actor", "story:k:a1:position", "story:k:a1:fact"]
        botapi.push_button(CHAT, "story:k:a1:actor", msg)
        await botapi.wait_for("sendMessage", before + 2, chat_id=CHAT, timeout=60)
        assert "re-checked" in botapi.texts(CHAT)[-1]
        flags = stories_of(app).db.flags("open")
        assert len(flags) == 1 and flags[0].kind == "actor"
        assert "only for the bot's administrators" in await ask(botapi, CHAT, "/flagged")
        listing = await ask(botapi, ADMIN, "/flagged", user_id=ADMIN)
        assert f"#{flags[0].id}" in listing and "wrong actor" in listing
        answer = await ask(botapi, ADMIN, f"/recheck {flags[0].id}", user_id=ADMIN)
        assert "Re-checked" in answer  # the seed brief is supported: kept, no correction sent
        assert stories_of(app).db.flags("kept")[0].id == flags[0].id


async def test_follow_is_in_help_and_the_menu(botapi: BotAPIServer, app: App) -> None:
    async with running(app, extra_commands=COMMANDS):
        help_text = await ask(botapi, CHAT, "/help")
        assert "/follow" in help_text and "/unfollow" in help_text
        menu = [c["command"] for c in botapi.sent(method="setMyCommands")[0].params["commands"]]
        assert "follow" in menu and "stories" in menu
    readme = (__import__("tests.support.config", fromlist=["REPO"]).REPO / "README.md").read_text()
    assert "/follow" in readme and "Report a problem" in readme


def test_plugin_commands_include_stories() -> None:
    from briefing.service.bot_commands import bot_commands

    assert {"follow", "unfollow", "stories", "flagged", "recheck"} <= {c.name for c in bot_commands()}

