"""Fixtures for the Telegram tests: the fake Bot API server, an App on SQLite, a running bot."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from briefing.config import Config
from briefing.deliver.telegram import TelegramBot
from briefing.ingest.fetch import Fetcher, IPPolicy, Resolver, is_public_ip, system_resolver
from briefing.models import Actor, ArticleDraft, Brief
from briefing.app import App
from briefing.summarise import Engine, build_engine
from tests.conftest import make_config
from tests.telegram.botapi_server import TOKEN, BotAPIServer

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


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The real extractive engine, loaded once (spaCy takes seconds)."""
    return build_engine(make_config(Path(".")).summariser)


@pytest.fixture
async def botapi() -> AsyncIterator[BotAPIServer]:
    server = await BotAPIServer().start()
    yield server
    await server.stop()


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


_article_no = 0


def add_brief(app: App, headline: str = "Harbour plan approved", *, source: str | None = "harbour-news",
              summary: list[str] | None = None, actors: list[Actor] | None = None,
              url: str | None = None, queue: bool = True) -> int:
    """Store an article and its brief (as the summarise stage would) and queue its deliveries."""
    global _article_no
    _article_no += 1
    draft = ArticleDraft(url=url or f"https://news.example/{_article_no}", title=headline,
                         text=f"Article {_article_no}: {headline}. " * 5, source_name=source,
                         published=datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc))
    article = app.store.add_article(draft, source_name=source, fingerprint=[])
    assert article is not None
    brief = Brief(headline=headline, summary=summary or ["The council approved the harbour plan.",
                                                         "Work starts in spring."],
                  actors=actors or [Actor("Anna Berg", "Mayor", "backs the plan", "Berg said she backs it.")],
                  engine="extractive", topics=app.topics_for(article))
    brief_id = app.store.save_brief(article.id, brief, f"key-{_article_no}")
    if queue:
        app.queue_deliveries(brief_id)
    return brief_id


async def ask(botapi: BotAPIServer, chat_id: int, text: str, *, user_id: int | None = None,
              replies: int = 1, reply_to: dict[str, Any] | None = None) -> str:
    """Send ``text`` as a user and return the bot's answer(s) as the user sees them."""
    before = len(botapi.sent(chat_id))
    botapi.push_message(chat_id, text, user_id=user_id, reply_to=reply_to)
    await botapi.wait_for("sendMessage", before + replies, chat_id=chat_id)
    return "\n\n".join(botapi.texts(chat_id)[before:])


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
