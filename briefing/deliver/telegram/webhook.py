"""Receiving updates by webhook on our own aiohttp listener
(https://core.telegram.org/bots/api#setwebhook), instead of long polling."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from briefing.config import TelegramConfig, secret
from briefing.errors import ConfigError


def webhook_secret(config: TelegramConfig) -> str:
    secret_token = secret(config.webhook_secret_env)
    if not config.webhook_url or not secret_token:
        raise ConfigError("telegram.mode is webhook: set telegram.webhook_url and "
                          f"${config.webhook_secret_env} (the secret token)")
    return secret_token


async def start_webhook(application: Any, config: TelegramConfig, secret_token: str) -> web.AppRunner:
    """Listen for Telegram's POSTs and queue each update; returns the runner to clean up."""
    assert config.webhook_url

    async def receive(request: web.Request) -> web.Response:
        # Telegram sends the secret in this header; anything else is not Telegram.
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret_token.encode()):
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), application.bot)
        except ValueError:
            return web.Response(status=400)
        await application.update_queue.put(update)
        return web.Response()

    web_app = web.Application()
    web_app.router.add_post(urlsplit(config.webhook_url).path or "/", receive)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, config.webhook_listen, config.webhook_port).start()
    await application.bot.set_webhook(config.webhook_url, secret_token=secret_token,
                                      allowed_updates=["message", "callback_query"])
    return runner
