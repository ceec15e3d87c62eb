"""The whole service as a user runs it: ``briefing run`` against a local feed, Bot API and SMTP server."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from briefing.store import Store
from briefing.store.schema import Subscriber
from tests.service.conftest import NewsSite
from tests.support.botapi import TOKEN, BotAPIServer, ThreadedBotAPIServer
from tests.support.http import free_port
from tests.support.process import ServiceProcess, write_config
from tests.support.smtp import SmtpServer

CHAT = 777
READER = "reader@example.org"
TZ = "Europe/Berlin"
CHAT_TZ = "America/New_York"
SHUTDOWN_SECONDS = 5


@pytest.fixture
def botapi() -> Iterator[BotAPIServer]:
    """The fake Bot API server on its own event loop in a thread: the service is another process."""
    threaded = ThreadedBotAPIServer()
    yield threaded.start()
    threaded.stop()


def test_briefing_run_delivers_a_new_story_to_telegram_and_the_days_digest(
        tmp_path: Path, news: NewsSite, botapi: BotAPIServer, smtp_server: SmtpServer) -> None:
    box, smtp_port = smtp_server.mailbox, smtp_server.port
    http_port = free_port()
    config = write_config(tmp_path / "config.yaml", {
        "data_dir": str(tmp_path / "data"),
        "sources": [{"name": "city-desk", "kind": "feed", "url": news.feed_url, "topics": ["city"], "allow_private": True,
                     "interval_minutes": 0.02}],  # a poll every 1.2 s
        "ingest": {"per_host_delay_seconds": 0},
        "telegram": {"enabled": True, "base_url": botapi.base_url, "per_chat_interval_seconds": 0},
        "email": {"enabled": True, "smtp_host": "127.0.0.1", "smtp_port": smtp_port, "security": "none",
                  "from_address": "Briefing <briefing@news.example>", "http_port": http_port,
                  "unsubscribe_base_url": f"http://127.0.0.1:{http_port}"},
        "service": {"jitter_seconds": 0, "summarise_interval_seconds": 1, "deliver_interval_seconds": 1,
                    "digest_check_seconds": 1, "shutdown_timeout_seconds": SHUTDOWN_SECONDS},
    })
    store = Store.open(f"sqlite:///{tmp_path / 'data' / 'briefing.db'}")
    chat_reader = store.telegram_subscriber(CHAT)
    store.subscribe(chat_reader.id, "topic", "city")
    with store.session() as s:  # a verified email reader whose digest time has not come yet
        mail_reader = Subscriber(email=READER, email_verified=True, timezone=TZ, digest_time=None)
        s.add(mail_reader)
    store.subscribe(mail_reader.id, "topic", "city")
    env = {"BRIEFING_TELEGRAM_TOKEN": TOKEN, "BRIEFING_UNSUBSCRIBE_SECRET": "full-run-secret-0123456789"}

    proc = ServiceProcess(config, env=env)
    try:
        proc.wait_for("briefing is running")
        news.publish("Harbour bridge reopens after repairs", "the harbour bridge")
        proc.wait_until(lambda: botapi.sent(CHAT), "brief in Telegram")
        assert "Harbour bridge reopens after repairs" in botapi.texts(CHAT)[0]

        # Both readers' digest time comes (this minute, their own local time): that day's digest
        # is sent, by email to one and in Telegram to the other, who asked for it there.
        store.update_subscriber(mail_reader.id, digest_time=datetime.now(ZoneInfo(TZ)).strftime("%H:%M"))
        store.update_subscriber(chat_reader.id, digest_telegram=True, timezone=CHAT_TZ,
                                digest_time=datetime.now(ZoneInfo(CHAT_TZ)).strftime("%H:%M"))
        proc.wait_until(lambda: box.to(READER), "digest in the mailbox")
        proc.wait_until(lambda: len(botapi.sent(CHAT)) == 2, "digest in Telegram")
        rc, seconds = proc.terminate()
    finally:
        if proc.proc.poll() is None:
            proc.proc.kill()
    assert rc == 0 and seconds < SHUTDOWN_SECONDS, f"exit {rc} after {seconds:.1f}s:\n{proc.log}"
    assert "Traceback" not in proc.log, proc.log

    (digest,) = box.to(READER)
    today = datetime.now(ZoneInfo(TZ))
    assert str(today.day) in digest["Subject"]
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Harbour bridge reopens after repairs" in text
    assert "Harbour bridge reopens after repairs" in botapi.texts(CHAT)[1]  # the Telegram digest

    # The one-click unsubscribe URL in the digest is served by `briefing run` itself.
    proc = ServiceProcess(config, env=env)
    try:
        proc.wait_for("unsubscribe endpoint")
        url = re.search(r"<(http://[^>]+)>", digest["List-Unsubscribe"]).group(1)  # type: ignore[union-attr]
        answer = httpx.post(url, data={"List-Unsubscribe": "One-Click"}, timeout=5)
        assert answer.status_code == 200, answer.text
        time.sleep(2)  # a few job runs after the restart
        rc, _ = proc.terminate(sig=signal.SIGINT)  # Ctrl-C stops it just as cleanly
    finally:
        if proc.proc.poll() is None:
            proc.proc.kill()
    assert rc == 0, proc.log
    assert len(botapi.sent(CHAT)) == 2 and len(box.to(READER)) == 1  # nothing sent twice after the restart
    sub = store.get_subscriber(mail_reader.id)
    assert sub is not None and not sub.email_verified  # unsubscribed: no more digests
    store.close()
