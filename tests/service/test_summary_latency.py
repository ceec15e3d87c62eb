"""/summary in the running service: the extractive answer never waits for the gist model.

The service runs the model in one worker thread; a gist (or a scheduled brief with its gist)
takes several seconds there. The extractive brief a /summary user gets first needs no model,
so it must not queue behind that work. The gist model is a stand-in that holds the model thread
for a few seconds (the real one's tests are in tests/summarise/test_gist.py); the extractive
engine, the gist engine, the worker, the service and its bot are the real ones.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from briefing.models import Brief
from briefing.service.runner import Service
from briefing.summarise import Engine
from briefing.summarise.base import Document
from briefing.summarise.gist_engine import GistEngine
from tests.builders import article_text
from tests.service.conftest import NewsSite, running, service_config
from tests.support.botapi import TOKEN, BotAPIServer, parse_html
from tests.support.wait import eventually

MODEL_SECONDS = 3.0


class SlowModel:
    """Stands in for the gist model: holds the calling (model) thread for MODEL_SECONDS per brief."""

    label = "slow-model"
    prompts = SimpleNamespace(version="1")

    def __init__(self) -> None:
        self.started = threading.Event()

    def improve(self, brief: Brief, doc: Document) -> Brief:
        self.started.set()
        time.sleep(MODEL_SECONDS)
        return dataclasses.replace(brief, gist=f"Gist of {doc.title}.")


def original(chat: int, title: str) -> dict[str, object]:
    return {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"},
            "text": f"{title}\n\n" + article_text(title.lower())}


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFING_TELEGRAM_TOKEN", TOKEN)


def gist_service(tmp_path: Path, news: NewsSite, botapi: BotAPIServer, engine: Engine, model: SlowModel,
                 **service: float) -> Service:
    config = service_config(tmp_path, news, telegram={"enabled": True, "base_url": botapi.base_url,
                                                      "per_chat_interval_seconds": 0},
                            summariser={"gist_timeout_seconds": 30}, service=service)
    return Service(config, engine=GistEngine(engine, model))  # type: ignore[arg-type]


async def test_a_second_user_gets_the_extractive_answer_while_the_first_users_gist_is_written(
        tmp_path: Path, news: NewsSite, botapi: BotAPIServer, engine: Engine) -> None:
    model = SlowModel()
    async with running(gist_service(tmp_path, news, botapi, engine, model)):
        botapi.push_message(801, "/summary", reply_to=original(801, "Ferry strike ends"))
        await botapi.wait_for("editMessageText", 1, chat_id=801, timeout=10)  # Ada's extractive answer
        await eventually(model.started.is_set, what="her gist to start")  # the model thread writes it now
        asked = time.monotonic()
        botapi.push_message(802, "/summary", reply_to=original(802, "Tram line opens"))
        bobs = (await botapi.wait_for("editMessageText", 1, chat_id=802, timeout=10))[0]
        adas_gist = (await botapi.wait_for("editMessageText", 2, chat_id=801, timeout=15))[1]
        bobs_gist = (await botapi.wait_for("editMessageText", 2, chat_id=802, timeout=15))[1]
    assert "Tram line opens" in parse_html(bobs.params["text"])
    assert bobs.at - asked < MODEL_SECONDS / 2 and bobs.at < adas_gist.at  # not queued behind her gist
    assert "Gist of Ferry strike ends." in parse_html(adas_gist.params["text"])
    assert "Gist of Tram line opens." in parse_html(bobs_gist.params["text"])  # his gist still comes


async def test_the_extractive_answer_does_not_wait_for_a_scheduled_brief_being_written(
        tmp_path: Path, news: NewsSite, botapi: BotAPIServer, engine: Engine) -> None:
    model = SlowModel()
    news.publish("Harbour plan approved", "the harbour")
    async with running(gist_service(tmp_path, news, botapi, engine, model, summarise_interval_seconds=0.2)):
        await eventually(model.started.is_set, what="the scheduled brief")  # it holds the model thread
        asked = time.monotonic()
        botapi.push_message(803, "/summary", reply_to=original(803, "Bridge reopens"))
        answer = (await botapi.wait_for("editMessageText", 1, chat_id=803, timeout=10))[0]
    assert "Bridge reopens" in parse_html(answer.params["text"])
    assert answer.at - asked < MODEL_SECONDS / 2
