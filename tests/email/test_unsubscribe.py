"""The List-Unsubscribe link, end to end: from the received message to a real HTTP server and back."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp import web

from briefing.deliver.email import UnsubscribeSigner, unsubscribe_app
from briefing.service.digests import send_due_digests
from briefing.errors import ConfigError
from briefing.store import Store
from tests.email.conftest import HOUR, Ctx, add_subscriber, email_config, utc
from tests.support.briefs import add_brief
from tests.support.http import free_port
from tests.support.smtp import SmtpServer

NOW = utc(2026, 11, 27, 8, 0)


@pytest.fixture
async def web_port(sqlite_store: Store, tmp_path: Path) -> AsyncIterator[int]:
    """The unsubscribe endpoint on a real aiohttp server at 127.0.0.1:<port>."""
    port = free_port()
    config = email_config(tmp_path, 1, unsubscribe_base_url=f"http://127.0.0.1:{port}")
    runner = web.AppRunner(unsubscribe_app(sqlite_store, UnsubscribeSigner.from_config(config.email)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port
    await runner.cleanup()


async def _received_url(tmp_path: Path, store: Store, smtp: SmtpServer, port: int, **sub: object) -> str:
    config = email_config(tmp_path, smtp.port, unsubscribe_base_url=f"http://127.0.0.1:{port}")
    add_subscriber(store, "reader@example.org", **sub)  # type: ignore[arg-type]
    add_brief(store, "Bakery prices rise", topics=["economy"], created_at=NOW - HOUR)
    await send_due_digests(Ctx(config, store), NOW)
    header = smtp.mailbox.messages[-1]["List-Unsubscribe"]
    return next(u for u in re.findall(r"<([^<>]+)>", header) if u.startswith("http"))


async def test_one_click_post_unsubscribes(tmp_path: Path, sqlite_store: Store, smtp_server: SmtpServer,
                                           web_port: int) -> None:
    url = await _received_url(tmp_path, sqlite_store, smtp_server, web_port)
    async with aiohttp.ClientSession() as http:
        # What a mail provider's button sends (RFC 8058 section 3.2).
        async with http.post(url, data="List-Unsubscribe=One-Click",
                             headers={"Content-Type": "application/x-www-form-urlencoded"},
                             allow_redirects=False) as resp:
            assert resp.status == 200 and "unsubscribed" in await resp.text()
    sub = sqlite_store.get_subscriber(1)
    assert sub is not None and sub.email_verified is False and sub.active is False  # email-only subscriber
    config = email_config(tmp_path, smtp_server.port)
    tomorrow = await send_due_digests(Ctx(config, sqlite_store), NOW + 24 * HOUR)
    assert tomorrow.recorded == 0 and len(smtp_server.mailbox.messages) == 1


async def test_get_only_asks_and_telegram_user_keeps_telegram(tmp_path: Path, sqlite_store: Store,
                                                              smtp_server: SmtpServer, web_port: int) -> None:
    url = await _received_url(tmp_path, sqlite_store, smtp_server, web_port, chat_id=77)
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:  # a link scanner prefetching the footer link
            page = await resp.text()
            assert resp.status == 200 and "<form method='post'" in page and "reader@example.org" in page
        assert sqlite_store.get_subscriber(1).email_verified is True  # type: ignore[union-attr]
        async with http.post(url, data={"List-Unsubscribe": "One-Click"}) as resp:  # the page's button
            assert resp.status == 200
    sub = sqlite_store.get_subscriber(1)
    assert sub is not None and sub.email_verified is False and sub.active is True


async def test_tampered_or_foreign_links_are_refused(tmp_path: Path, sqlite_store: Store,
                                                     smtp_server: SmtpServer, web_port: int) -> None:
    url = await _received_url(tmp_path, sqlite_store, smtp_server, web_port)
    other = add_subscriber(sqlite_store, "other@example.org")
    parts = urlsplit(url)
    token = parse_qs(parts.query)["t"][0]
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    forged = [
        f"{base}?{urlencode({'s': 1, 't': token[:-1] + ('A' if token[-1] != 'A' else 'B')})}",  # altered token
        f"{base}?{urlencode({'s': other, 't': token})}",  # someone else's id with my token
        f"{base}?{urlencode({'s': 1})}",  # no token
        f"{base}?s=abc&t={token}",  # not an id
    ]
    async with aiohttp.ClientSession() as http:
        for bad in forged:
            async with http.post(bad, data="List-Unsubscribe=One-Click") as resp:
                assert resp.status == 403, bad
    for sid in (1, other):
        sub = sqlite_store.get_subscriber(sid)
        assert sub is not None and sub.email_verified is True and sub.active is True


def test_sending_needs_the_signing_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIEFING_UNSUBSCRIBE_SECRET")
    with pytest.raises(ConfigError, match="BRIEFING_UNSUBSCRIBE_SECRET"):
        UnsubscribeSigner.from_config(email_config(tmp_path, 25).email)
