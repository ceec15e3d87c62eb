"""Webhook mode: the URL and secret are registered with Telegram; only requests with the secret count."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest

from briefing.errors import ConfigError
from briefing.app import App
from tests.support.botapi import BotAPIServer
from tests.support.http import free_port
from tests.telegram.conftest import running


def update(text: str) -> dict[str, object]:
    return {"update_id": 1, "message": {
        "message_id": 1, "date": 0, "chat": {"id": 42, "type": "private"},
        "from": {"id": 42, "is_bot": False, "first_name": "Ada"}, "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}}


async def test_webhook_receives_updates_with_the_secret_only(make_app: Callable[..., App], botapi: BotAPIServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFING_TELEGRAM_WEBHOOK_SECRET", "s3cret-token")
    port = free_port()
    app = make_app(mode="webhook", webhook_url="https://bot.example.org/telegram/hook", webhook_port=port)
    async with running(app), aiohttp.ClientSession() as http:
        assert botapi.webhook == "https://bot.example.org/telegram/hook"
        assert botapi.sent(method="setWebhook")[0].params["secret_token"] == "s3cret-token"
        url = f"http://127.0.0.1:{port}/telegram/hook"
        async with http.post(url, json=update("/help"), headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}) as r:
            assert r.status == 403
        async with http.post(url, json=update("/help")) as r:
            assert r.status == 403
        async with http.post(url, json=update("/help"),
                             headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}) as r:
            assert r.status == 200
        await botapi.wait_for("sendMessage", chat_id=42)
    assert len(botapi.sent(42)) == 1 and "/subscribe" in botapi.texts(42)[0]
    assert not [c for c in botapi.calls if c.method == "getUpdates"]


async def test_webhook_mode_needs_url_and_secret(make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIEFING_TELEGRAM_WEBHOOK_SECRET", raising=False)
    app = make_app(mode="webhook", webhook_url="https://bot.example.org/hook", webhook_port=free_port())
    with pytest.raises(ConfigError, match="BRIEFING_TELEGRAM_WEBHOOK_SECRET"):
        async with running(app):
            pass
