"""/summary: stored briefs by interest or topic, a user's link read now (SSRF-safe), replied-to text."""

from __future__ import annotations

from collections.abc import Callable

from briefing.deliver.telegram import TelegramBot
from briefing.app import App
from tests.builders import article_text, html_page
from tests.support.botapi import BotAPIServer, ask, parse_html
from tests.support.briefs import add_brief
from tests.support.http import LocalHTTPServer, Response, loopback_is_public, resolver
from tests.telegram.conftest import running

CHAT = 700


async def read_link(botapi: BotAPIServer, chat: int, url: str) -> str:
    """Send /summary <url>; return the final answer (the edited "Reading …" message)."""
    placeholder = await ask(botapi, chat, f"/summary {url}")
    assert placeholder.startswith("Reading")
    edits = await botapi.wait_for("editMessageText", len(botapi.sent(chat, "editMessageText")) + 1, chat_id=chat)
    return parse_html(edits[-1].params["text"])


async def test_summary_without_argument_shows_top_briefs_for_this_user(bot: TelegramBot, botapi: BotAPIServer,
                                                                        app: App) -> None:
    add_brief(app, "Harbour dredging starts", queue=False)
    add_brief(app, "Election called", source="world-wire", queue=False)
    everything = await ask(botapi, CHAT, "/summary")
    assert "Top briefs of the last 24 hours" in everything
    assert "Harbour dredging starts" in everything and "Election called" in everything
    await ask(botapi, CHAT, "/subscribe politics")
    mine = await ask(botapi, CHAT, "/summary")
    assert "Election called" in mine and "Harbour dredging" not in mine


async def test_summary_of_a_topic_or_keyword(bot: TelegramBot, botapi: BotAPIServer, app: App) -> None:
    add_brief(app, "Harbour dredging starts", queue=False)
    add_brief(app, "Election called", source="world-wire", queue=False)
    text = await ask(botapi, CHAT, "/summary politics")
    assert "Latest on politics" in text and "Election called" in text and "Harbour" not in text
    assert "Harbour dredging starts" in await ask(botapi, CHAT, "/summary dredging")
    assert "No briefs about <unicorns> yet" in await ask(botapi, CHAT, "/summary <unicorns>")


async def test_summary_of_a_link_reads_it_now(make_app: Callable[..., App], botapi: BotAPIServer,
                                              http_server: LocalHTTPServer) -> None:
    http_server.route("/story", Response(html_page("Harbour <plan> approved", article_text()),
                                         headers={"Content-Type": "text/html; charset=utf-8"}))
    app = make_app(resolver=resolver, ip_allowed=loopback_is_public)
    url = f"http://news.test:{http_server.port}/story"
    async with running(app):
        text = await read_link(botapi, CHAT, url)
    assert text.startswith("Harbour <plan> approved") and "Anna Berg" in text
    assert botapi.sent(CHAT, "sendChatAction")[0].params["action"] == "typing"
    edit = botapi.sent(CHAT, "editMessageText")[-1].params["text"]
    assert f'<a href="{url}">Read the article</a>' in edit
    assert http_server.requests[0].headers["host"] == f"news.test:{http_server.port}"


async def test_summary_of_replied_to_text(bot: TelegramBot, botapi: BotAPIServer) -> None:
    original = {"message_id": 1, "date": 0, "chat": {"id": CHAT, "type": "private"},
                "text": "Ferry strike ends\n\n" + article_text("the ferry strike")}
    await ask(botapi, CHAT, "/summary", reply_to=original)
    edit = await botapi.wait_for("editMessageText", chat_id=CHAT)
    text = parse_html(edit[-1].params["text"])
    assert text.startswith("Ferry strike ends") and "Anna Berg" in text


async def test_ssrf_refusals_in_plain_words(make_app: Callable[..., App], botapi: BotAPIServer,
                                            http_server: LocalHTTPServer) -> None:
    port = http_server.port
    http_server.route("/secret", Response("internal only " * 100))
    http_server.route("/to-private", Response(status=302, headers={"Location": f"http://intranet.test:{port}/secret"}))
    http_server.route("/to-file", Response(status=302, headers={"Location": "file:///etc/passwd"}))
    for i in range(8):
        http_server.route(f"/hop{i}", Response(status=302, headers={"Location": f"/hop{i + 1}"}))
    http_server.route("/huge", Response("x" * 50_000))
    app = make_app(resolver=resolver, ip_allowed=loopback_is_public,
                   ingest={"max_bytes": 20_000, "max_redirects": 3}, summary_rate_per_hour=100)
    strict = make_app(resolver=resolver)  # the real policy: 127.0.0.1 is loopback, not public
    not_allowed = "not allowed"
    async with running(strict):
        assert not_allowed in await read_link(botapi, CHAT, f"http://127.0.0.1:{port}/secret")
        assert not_allowed in await read_link(botapi, CHAT, f"http://[::1]:{port}/secret")
        assert not_allowed in await read_link(botapi, CHAT, f"http://v6.test:{port}/secret")
        assert not_allowed in await read_link(botapi, CHAT, f"http://news.test:{port}/secret")
    assert http_server.requests == []  # nothing refused was ever connected to
    async with running(app):
        for url in (f"http://intranet.test:{port}/secret",  # private (RFC 1918)
                    "http://metadata.test/latest/meta-data/",  # link-local cloud metadata
                    "http://169.254.169.254/latest/meta-data/",
                    f"http://mapped.test:{port}/secret",  # IPv4-mapped IPv6 private address
                    f"http://6to4.test:{port}/secret",  # 6to4 address wrapping 127.0.0.1
                    "http://[::1/", f"http://news.test:{port}0000/",  # malformed: refused, not a crash
                    "file:///etc/passwd", "ftp://news.test/file", "gopher://news.test:70/"):
            assert not_allowed in await read_link(botapi, CHAT, url), url
        assert not_allowed in await read_link(botapi, CHAT, f"http://news.test:{port}/to-private")
        assert not_allowed in await read_link(botapi, CHAT, f"http://news.test:{port}/to-file")
        assert "redirects too many times" in await read_link(botapi, CHAT, f"http://news.test:{port}/hop0")
        assert "too large" in await read_link(botapi, CHAT, f"http://news.test:{port}/huge")
        assert "could not be reached" in await read_link(botapi, CHAT, f"http://news.test:{port}/missing")
    paths = [r.path for r in http_server.requests]
    assert "/secret" not in paths  # the redirect to a private address was not followed
    assert paths.count("/hop0") == 1 and "/hop4" not in paths


async def test_not_an_article_and_slow_site(make_app: Callable[..., App], botapi: BotAPIServer,
                                            http_server: LocalHTTPServer) -> None:
    http_server.route("/empty", Response("<html><body><nav>Home</nav></body></html>",
                                         headers={"Content-Type": "text/html"}))
    http_server.route("/image", Response(b"\x89PNG....", headers={"Content-Type": "image/png"}))
    http_server.route("/slow", Response("late", delay=1.5))
    app = make_app(resolver=resolver, ip_allowed=loopback_is_public, ingest={"timeout_seconds": 0.5})
    async with running(app):
        for path in ("/empty", "/image"):
            assert "does not look like an article" in await read_link(
                botapi, CHAT, f"http://news.test:{http_server.port}{path}")
        assert "did not answer in time" in await read_link(botapi, CHAT, f"http://news.test:{http_server.port}/slow")


async def test_summary_rate_limit_per_user(make_app: Callable[..., App], botapi: BotAPIServer) -> None:
    app = make_app(summary_rate_per_hour=2)
    async with running(app):
        for _ in range(2):
            assert "not allowed" in await read_link(botapi, CHAT, "file:///etc/passwd")
        refused = await ask(botapi, CHAT, "/summary file:///etc/passwd")
        assert "2 summaries this hour" in refused and "Try again in" in refused
        assert "not allowed" in await read_link(botapi, CHAT + 1, "file:///etc/passwd")  # another user
        # Stored briefs need no model: listing them is not rate limited.
        assert "No briefs about harbour yet" in await ask(botapi, CHAT, "/summary harbour")


async def test_summaries_turned_off(make_app: Callable[..., App], botapi: BotAPIServer) -> None:
    app = make_app(summary_rate_per_hour=0)
    async with running(app):
        assert "turned off" in await ask(botapi, CHAT, "/summary https://news.example/story")
    assert not botapi.sent(CHAT, "sendChatAction")
