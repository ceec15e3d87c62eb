"""What goes wrong around the service is reported clearly, and the service keeps running."""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from briefing.cli import main
from briefing.service.runner import Service
from briefing.store.schema import Digest, Subscriber
from briefing.summarise import Engine
from tests.service.conftest import NewsSite, running, service_config
from tests.support.botapi import TOKEN, BotAPIServer
from tests.support.http import free_port
from tests.support.process import write_config
from tests.support.wait import eventually

CHAT = 5150


@pytest.mark.parametrize(("section", "variable"), [("telegram", "BRIEFING_TELEGRAM_TOKEN"),
                                                    ("email", "BRIEFING_UNSUBSCRIBE_SECRET")])
def test_a_missing_secret_stops_start_up_with_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        section: str, variable: str) -> None:
    monkeypatch.delenv(variable, raising=False)
    path = write_config(tmp_path / "config.yaml", {"data_dir": str(tmp_path / "data"), section: {"enabled": True}})
    assert main(["run", "--config", str(path)]) == 2  # a configuration error, before anything starts
    assert variable in capsys.readouterr().err


async def test_a_dry_run_without_a_token_logs_what_it_would_send_and_sends_nothing(
        tmp_path: Path, news: NewsSite, engine: Engine, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("BRIEFING_TELEGRAM_TOKEN", raising=False)
    caplog.set_level(logging.INFO)
    news.publish("Harbour plan approved", "the harbour")
    config = service_config(tmp_path, news, telegram={"enabled": True, "base_url": "http://127.0.0.1:9/bot"})
    svc = Service(config, dry_run=True, engine=engine)
    reader = svc.app.store.telegram_subscriber(CHAT)
    svc.app.store.subscribe(reader.id, "topic", "city")
    async with running(svc):
        await eventually(lambda: "would send" in caplog.text, what="the dry-run log line")
        deliveries = await asyncio.to_thread(svc.app.store.deliveries_for, reader.id)
    line = next(r.getMessage() for r in caplog.records if "would send" in r.getMessage())
    assert "Harbour plan approved" in line and str(CHAT) in line
    assert [d.status for d in deliveries] == ["pending"]  # a real run still sends it


async def test_a_dead_smtp_server_is_reported_and_retried_while_the_service_carries_on(
        tmp_path: Path, news: NewsSite, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFING_UNSUBSCRIBE_SECRET", "dead-smtp-test-secret-0123456789")
    news.publish("Harbour plan approved", "the harbour")
    config = service_config(tmp_path, news, interval_minutes=0.02, email={
        "enabled": True, "smtp_host": "127.0.0.1", "smtp_port": free_port(), "security": "none",
        "timeout_seconds": 2, "http_port": free_port(), "retry_base_seconds": 60})
    svc = Service(config, engine=engine)
    with svc.app.store.session() as s:
        reader = Subscriber(email="reader@example.org", email_verified=True, timezone="UTC")
        s.add(reader)
    svc.app.store.subscribe(reader.id, "topic", "city")
    async with running(svc):
        store = svc.app.store
        await eventually(lambda: store.count_briefs() == 1, what="the brief")
        store.update_subscriber(reader.id, digest_time=datetime.now(ZoneInfo("UTC")).strftime("%H:%M"))
        jobs = await eventually(lambda: {j.name: j for j in store.job_records()
                                         if j.name == "digests" and j.last_error}, what="a digest error")
        polls_before = len(news.hits)
        news.publish("Tram line extended", "the tram line")
        await eventually(lambda: store.count_briefs() == 2, what="work going on after the failure")
    assert "SMTP connection failed" in jobs["digests"].last_error  # type: ignore[index]
    assert len(news.hits) > polls_before
    with store.session() as s:
        digest = s.scalar(select(Digest))
        assert digest is not None and digest.status == "pending" and digest.next_attempt_at is not None


async def test_telegram_flood_control_is_reported_and_the_brief_retried_once_allowed(
        tmp_path: Path, news: NewsSite, engine: Engine, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("BRIEFING_TELEGRAM_TOKEN", TOKEN)
    botapi = await BotAPIServer().start()
    # More 429s than the bot retries in place: the delivery goes back to the queue with a retry time.
    botapi.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=CHAT, times=3)
    news.publish("Harbour plan approved", "the harbour")
    config = service_config(tmp_path, news, telegram={
        "enabled": True, "base_url": botapi.base_url, "per_chat_interval_seconds": 0, "max_retries": 2})
    svc = Service(config, engine=engine)
    reader = svc.app.store.telegram_subscriber(CHAT)
    svc.app.store.subscribe(reader.id, "topic", "city")
    try:
        async with running(svc):
            await botapi.wait_for("sendMessage", 1, chat_id=CHAT, timeout=15)
            await asyncio.sleep(1.0)  # room for a wrong second copy
    finally:
        await botapi.stop()
    assert len(botapi.sent(CHAT)) == 1  # sent once, after the wait Telegram asked for
    warning = next(r.getMessage() for r in caplog.records
                   if r.levelno == logging.WARNING and "Telegram:" in r.getMessage())
    assert "RateLimited" in warning and "chat 5150" in warning


def test_a_port_in_use_stops_start_up_with_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BRIEFING_UNSUBSCRIBE_SECRET", "port-test-secret-0123456789")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = write_config(tmp_path / "config.yaml", {"data_dir": str(tmp_path / "data"),
                                                       "email": {"enabled": True, "http_port": port}})
        assert main(["run", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"cannot serve the unsubscribe endpoint on 127.0.0.1:{port}" in err
