"""Every command, as a user sees it: pushed as updates to the fake Bot API, answered by the bot."""

from __future__ import annotations

import asyncio
import json

import pytest

from briefing.deliver.telegram import TelegramBot
from briefing.app import App
from tests.support.botapi import BotAPIServer, ask, parse_html
from tests.support.briefs import add_brief
from tests.support.http import LocalHTTPServer
from tests.telegram.conftest import ADMIN

CHAT = 100


async def test_start_registers_the_chat_and_explains(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    answer = await ask(botapi, CHAT, "/start")
    assert "briefs" in answer and "/help" in answer
    sub = app.store.subscriber_by_chat(CHAT)
    assert sub is not None and sub.active and sub.display_name == "Ada"


async def test_menu_is_set_with_admin_commands_only_for_admins(bot: TelegramBot, botapi: BotAPIServer) -> None:
    public = {c["command"] for c in botapi.commands['{"type": "default"}']}
    admin = {c["command"] for c in botapi.commands[json.dumps({"chat_id": ADMIN, "type": "chat"}, sort_keys=True)]}
    assert {"start", "summary", "help"} <= public and "stats" not in public
    assert {"stats", "addsource", "removesource", "sources"} <= admin


async def test_subscribe_resolves_topic_source_and_keyword(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    assert "Following topic harbour" in await ask(botapi, CHAT, "/subscribe Harbour")
    assert "Following source world-wire" in await ask(botapi, CHAT, "/subscribe world-wire")
    assert "Following keyword anna berg" in await ask(botapi, CHAT, "/subscribe Anna  Berg")
    assert "already follow" in await ask(botapi, CHAT, "/subscribe harbour")
    sub = app.store.subscriber_by_chat(CHAT)
    assert sub is not None
    assert {(s.kind, s.value) for s in app.store.subscriptions(sub.id)} == {
        ("topic", "harbour"), ("source", "world-wire"), ("keyword", "anna berg")}


async def test_unsubscribe_and_subscriptions_list(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    await ask(botapi, CHAT, "/subscribe harbour")
    await ask(botapi, CHAT, "/subscribe ferries")
    listing = await ask(botapi, CHAT, "/subscriptions")
    assert "topic harbour" in listing and "keyword ferries" in listing
    assert "No longer following ferries" in await ask(botapi, CHAT, "/unsubscribe ferries")
    assert "You don't follow trams" in await ask(botapi, CHAT, "/unsubscribe trams")
    assert "keyword ferries" not in await ask(botapi, CHAT, "/subscriptions")
    await ask(botapi, CHAT, "/subscribe trams")
    await ask(botapi, CHAT, "/unsubscribe")
    buttons = [b for row in botapi.sent(CHAT)[-1].params["reply_markup"]["inline_keyboard"] for b in row]
    assert {"text": "✓ trams", "callback_data": "-keyword:trams"} in buttons  # a keyword can be dropped by tapping


async def test_subscriptions_buttons_toggle_a_topic(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    await ask(botapi, CHAT, "/subscriptions")
    message = botapi.sent(CHAT)[-1]
    buttons = [b for row in message.params["reply_markup"]["inline_keyboard"] for b in row]
    assert {b["callback_data"] for b in buttons} >= {"+topic:politics", "+topic:harbour", "+source:world-wire"}
    msg = botapi.messages[(CHAT, max(m for c, m in botapi.messages if c == CHAT))]
    botapi.push_button(CHAT, "+topic:politics", msg)
    await botapi.wait_for("answerCallbackQuery")
    await botapi.wait_for("editMessageText", chat_id=CHAT)
    assert "• topic politics" in parse_html(botapi.messages[(CHAT, msg["message_id"])]["text"])
    sub = app.store.subscriber_by_chat(CHAT)
    assert sub is not None and [(s.kind, s.value) for s in app.store.subscriptions(sub.id)] == [("topic", "politics")]


async def test_digest_time_zone_and_off(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    assert "07:30 (Europe/Berlin)" in await ask(botapi, CHAT, "/digest 7:30 Europe/Berlin")
    sub = app.store.subscriber_by_chat(CHAT)
    assert sub is not None and (sub.digest_time, sub.timezone, sub.digest_telegram) == ("07:30", "Europe/Berlin", True)
    assert "not a time zone" in await ask(botapi, CHAT, "/digest 08:00 Mars/Olympus")
    assert "not a time" in await ask(botapi, CHAT, "/digest 25:00")
    sub = app.store.subscriber_by_chat(CHAT)
    assert sub is not None and sub.digest_time == "07:30"  # bad input changed nothing
    assert "off" in await ask(botapi, CHAT, "/digest off")
    sub = app.store.subscriber_by_chat(CHAT)
    assert sub is not None and not sub.digest_telegram


async def test_settings_shows_what_is_stored(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    await ask(botapi, CHAT, "/subscribe harbour")
    await ask(botapi, CHAT, "/digest 06:15 America/New_York")
    text = await ask(botapi, CHAT, "/settings")
    assert f"Chat id: {CHAT}" in text and "06:15 (America/New_York)" in text and "topic harbour" in text
    assert "Daily digest by email: off" in text  # no verified address yet
    await ask(botapi, CHAT, "/digest off")
    sub = app.store.subscriber_by_chat(CHAT)
    app.store.update_subscriber(sub.id, email="ann@example.org", email_verified=True)  # type: ignore[union-attr]
    text = await ask(botapi, CHAT, "/settings")
    assert "Daily digest here: off" in text and "Daily digest by email: 06:15 (America/New_York)" in text


async def test_stop_deactivates_and_stop_delete_erases(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    await ask(botapi, CHAT, "/subscribe harbour")
    assert "Stopped" in await ask(botapi, CHAT, "/stop")
    sub = app.store.subscriber_by_chat(CHAT)
    assert sub is not None and not sub.active
    add_brief(app, "Harbour news after stop")
    assert app.store.delivery_counts() == {}  # nothing queued for a stopped chat
    await ask(botapi, CHAT, "/start")
    assert app.store.subscriber_by_chat(CHAT).active  # type: ignore[union-attr]
    assert "deleted" in await ask(botapi, CHAT, "/stop delete")
    assert app.store.subscriber_by_chat(CHAT) is None


async def test_help_lists_commands_and_unknown_command_points_to_help(bot: TelegramBot, botapi: BotAPIServer) -> None:
    text = await ask(botapi, CHAT, "/help")
    assert "/subscribe" in text and "/digest" in text and "/stats" not in text
    assert "/stats" in await ask(botapi, ADMIN, "/help")
    assert "/help" in await ask(botapi, CHAT, "/frobnicate")


async def test_admin_commands_refuse_others_and_change_nothing(bot: TelegramBot, botapi: BotAPIServer,
                                                               app: App) -> None:
    before = [(s.name, s.active) for s in app.store.list_sources()]
    for command in ("/sources", "/addsource https://example.org/feed", "/removesource world-wire", "/stats"):
        assert "only for the bot's administrators" in await ask(botapi, CHAT, command)
    assert [(s.name, s.active) for s in app.store.list_sources()] == before


async def test_admin_sources_remove_and_stats(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    assert "harbour-news" in await ask(botapi, ADMIN, "/sources")
    text = await ask(botapi, ADMIN, "/removesource world-wire")
    assert "Removed source world-wire" in text and "config.yaml" in text
    assert app.store.get_source("world-wire").active is False  # type: ignore[union-attr]
    assert "no source called" in await ask(botapi, ADMIN, "/removesource nope")
    await ask(botapi, CHAT, "/subscribe harbour")
    add_brief(app)
    stats = await ask(botapi, ADMIN, "/stats")
    assert "Subscribers: 1 active, 0 inactive" in stats and "Subscriptions: 1" in stats
    assert "pending 1" in stats


async def test_addsource_refuses_internal_addresses(bot: TelegramBot, botapi: BotAPIServer, app: App,
                                                    http_server: LocalHTTPServer) -> None:
    text = await ask(botapi, ADMIN, f"/addsource {http_server.url('/feed.xml')}")
    assert "Not added" in text and "not allowed" in text
    assert "http(s) URL" in await ask(botapi, ADMIN, "/addsource ftp://example.org/feed")
    assert {s.name for s in app.store.list_sources()} == {"harbour-news", "world-wire"}
    assert http_server.requests == []


async def test_a_failing_handler_is_logged_and_the_bot_keeps_running(
        bot: TelegramBot, botapi: BotAPIServer, app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(app.store, "subscriptions", broken)
    assert "something went wrong" in await ask(botapi, CHAT, "/settings")
    monkeypatch.undo()
    assert "/subscribe" in await ask(botapi, CHAT, "/help")


async def test_addsource_on_a_home_page_adds_the_feed_it_links_to(make_app, botapi: BotAPIServer,  # type: ignore[no-untyped-def]
                                                                  http_server: LocalHTTPServer) -> None:
    from tests.builders import html_page, rss
    from tests.support.http import Response, loopback_is_public, resolver
    from tests.telegram.conftest import running

    head = '<link rel="alternate" type="application/atom+xml" href="/a.xml">' \
           '<link rel="alternate" type="application/rss+xml" href="/feed.xml">'
    http_server.route("/", Response(html_page("Home", "Welcome.", head), headers={"Content-Type": "text/html"}))
    http_server.route("/feed.xml", Response(rss([]), headers={"Content-Type": "application/rss+xml"}))
    app = make_app(resolver=resolver, ip_allowed=loopback_is_public)
    async with running(app):
        text = await ask(botapi, ADMIN, f"/addsource http://news.test:{http_server.port}/")
    feed = f"http://news.test:{http_server.port}/feed.xml"
    assert "Added source" in text and feed in text and "the feed that page links to" in text
    assert app.store.get_source("news.test").location == feed  # RSS preferred over Atom
async def test_start_and_subscribe_from_40_new_chats_at_once_lose_nothing(bot: TelegramBot, botapi: BotAPIServer,
                                                                          app: App) -> None:
    """Issue 8 row 7: two updates from a new chat race on creating its subscriber."""
    chats = [3000 + i for i in range(40)]
    for chat in chats:
        botapi.push_message(chat, "/start")
        botapi.push_message(chat, "/subscribe harbour")
    await botapi.wait_for("sendMessage", 80, timeout=60)
    answers = botapi.texts()
    assert not [a for a in answers if "went wrong" in a]
    assert sum("Following topic harbour" in a or "already follow" in a for a in answers) == 40
    subs = app.store.all_subscriptions()
    assert sorted(app.store.get_subscriber(sid).telegram_chat_id for sid in subs) == chats  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "expected"), [
    ("/addsource http://[::1/x", "not a valid URL"),
    ("/addsource http://example.com:99999/feed", "not a valid URL"),
    ("/addsource https://news.example/" + "a" * 5000, "characters long"),
])
async def test_addsource_refuses_malformed_urls_in_words(bot: TelegramBot, botapi: BotAPIServer, app: App,
                                                         text: str, expected: str) -> None:
    answer = await ask(botapi, ADMIN, text, user_id=ADMIN)
    assert expected in answer and "went wrong" not in answer
    assert app.store.get_source("news.example") is None


async def test_digest_with_a_huge_zone_is_refused_in_words(bot: TelegramBot, botapi: BotAPIServer) -> None:
    answer = await ask(botapi, CHAT, "/digest 07:00 " + "Europe/" + "x" * 3000)
    assert "not a time zone I know" in answer and "went wrong" not in answer
    assert len(answer) < 400


async def test_a_100k_character_summary_url_is_not_echoed(bot: TelegramBot, botapi: BotAPIServer) -> None:
    before = len(botapi.sent(CHAT))
    answer = await ask(botapi, CHAT, "/summary https://news.example/" + "a" * 100_000)
    assert "characters long" in answer and len(answer) < 300
    await asyncio.sleep(0.5)
    assert len(botapi.sent(CHAT)) == before + 1  # one short answer, not 25 messages
