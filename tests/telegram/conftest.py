"""Fixtures for the Telegram tests: an App on SQLite, a running bot (the Bot API server is the
shared ``botapi`` fixture, tests/support/botapi.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from briefing.config import Config
from briefing.deliver.telegram import TelegramBot
from briefing.ingest.fetch import Fetcher, IPPolicy, Resolver, is_public_ip, system_resolver
from briefing.models import Actor, ArticleDraft, Brief
from briefing.app import App
from briefing.summarise import Engine, build_engine
from tests.support.botapi import TOKEN, BotAPIServer
from tests.support.config import make_config

ADMIN = 9001
SOURCES = [
    {"name": "harbour-news", "kind": "feed", "url": "http://127.0.0.1:9/harbour.xml", "topics": ["harbour", "city"]},
    {"name": "world-wire", "kind": "feed", "url": "http://127.0.0.1:9/world.xml", "topics": ["politics"]},
]


def telegram_config(tmp_path: Path, botapi: BotAPIServer, ingest: dict[str, Any] | None = None,
                    **telegram: Any) -> Config:
    """Fast limits: no per-chat spacing, a high overall rate, no back-off sleeps."""
    tg = {"enabled": True, "base_url": botapi.base_url, "admins": [ADMIN], "per_chat_interval_seconds": 0,
          "messages_per_second": 1000, "retry_base_seconds": 0, "max_retries": 3, **telegram}
    return make_config(tmp_path, telegram=tg, sources=SOURCES, ingest=ingest or {})


@pytest.fixture
def make_app(tmp_path: Path, botapi: BotAPIServer, engine: Engine) -> Iterator[Callable[..., App]]:
    apps: list[App] = []

    def make(*, ingest: dict[str, Any] | None = None, resolver: Resolver | None = None,
             ip_allowed: IPPolicy | None = None, **telegram: Any) -> App:
        """An App on SQLite; ``resolver``/``ip_allowed`` go to its fetcher (SSRF tests)."""
        config = telegram_config(tmp_path, botapi, ingest, **telegram)
        fetcher = Fetcher(config.ingest, resolver=resolver or system_resolver, ip_allowed=ip_allowed or is_public_ip)
        app = App(config, engine=engine, fetcher=fetcher)
        app.store.sync_sources(config.source_specs())
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture
def app(make_app: Callable[..., App]) -> App:
    return make_app()


@pytest.fixture
async def bot(app: App) -> AsyncIterator[TelegramBot]:
    """A bot polling the fake server."""
    b = TelegramBot(app, app.config.telegram, token=TOKEN, extra_commands=[])
    await b.start()
    yield b
    await b.stop()


@contextlib.asynccontextmanager
async def running(app: App, **kwargs: Any) -> AsyncIterator[TelegramBot]:
    """A bot for ``app`` polling the fake server, stopped afterwards."""
    kwargs.setdefault("extra_commands", [])
    b = TelegramBot(app, app.config.telegram, token=TOKEN, **kwargs)
    await b.start()
    try:
        yield b
    finally:
        await b.stop()
