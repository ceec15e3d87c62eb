"""Two ``briefing run`` instances on one database: one works and sends, the other stands by."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from briefing.config import Config
from briefing.service.lease import SENDER
from briefing.service.runner import Service
from briefing.store import Store
from briefing.summarise import Engine
from tests.service.conftest import NewsSite, service_config
from tests.support.botapi import TOKEN, BotAPIServer
from tests.support.wait import eventually

CHAT = 4242


def telegram_service_config(tmp_path: Path, news: NewsSite, botapi: BotAPIServer, db_url: str) -> Config:
    return service_config(
        tmp_path, news, interval_minutes=0.02, service={"lease_seconds": 1.5}, database_url=db_url,
        telegram={"enabled": True, "base_url": botapi.base_url, "per_chat_interval_seconds": 0,
                  "messages_per_second": 1000, "retry_base_seconds": 0})


async def test_only_the_lease_holder_sends_and_a_standby_takes_over(
        tmp_path: Path, news: NewsSite, engine: Engine, monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    """On SQLite, and on PostgreSQL when BRIEFING_TEST_DATABASE_URL is set."""
    monkeypatch.setenv("BRIEFING_TELEGRAM_TOKEN", TOKEN)
    botapi = await BotAPIServer().start()
    config = telegram_service_config(tmp_path, news, botapi, db_url)
    store = Store.open(config.db_url)
    reader = store.telegram_subscriber(CHAT)
    store.subscribe(reader.id, "topic", "city")
    news.publish("Harbour plan approved", "the harbour")

    first = Service(config, engine=engine, rng=random.Random(1))
    second = Service(config, engine=engine, rng=random.Random(2))
    await first.start()
    await second.start()
    try:
        await botapi.wait_for("sendMessage", 1, chat_id=CHAT)
        await asyncio.sleep(1.5)  # time enough for the standby to send it too, were it not standing by
        assert len(botapi.sent(CHAT)) == 1
        assert len(botapi.sent(method="setMyCommands")) == 1  # the standby's bot has not started
        lease = store.lease(SENDER)
        assert lease is not None and lease.holder == first.lease.holder and not second.lease.held

        await first.stop()  # a clean stop hands the lease over at once
        news.publish("Tram line extended", "the tram line")
        await botapi.wait_for("sendMessage", 2, chat_id=CHAT)
        await eventually(lambda: second.lease.held, what="the standby to take over")
        assert len(botapi.sent(method="setMyCommands")) == 2  # its bot started on taking over
        await asyncio.sleep(1.0)
    finally:
        await first.stop()
        await second.stop()
        await botapi.stop()
    texts = botapi.texts(CHAT)
    assert len(texts) == 2, texts  # each brief exactly once, across both instances
    assert "Harbour plan approved" in texts[0] and "Tram line extended" in texts[1]
    assert store.count_articles() == 2
    store.close()
