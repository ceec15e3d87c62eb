"""`briefing status`: what an operator sees about a running (or stopped) service."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from briefing.cli import main
from briefing.config import load_config
from briefing.service.runner import Service
from briefing.summarise import Engine
from tests.service.conftest import NewsSite, running
from tests.support.http import LocalHTTPServer, Response
from tests.support.process import write_config
from tests.support.wait import eventually


async def test_status_shows_sources_queues_todays_briefs_jobs_and_the_sender(
        tmp_path: Path, news: NewsSite, http_server: LocalHTTPServer, engine: Engine,
        capsys: pytest.CaptureFixture[str]) -> None:
    http_server.route("/gone.xml", Response("gone", 410))
    news.publish("Harbour plan approved", "the harbour")
    path = write_config(tmp_path / "config.yaml", {
        "data_dir": str(tmp_path / "data"),
        "sources": [{"name": "local-news", "kind": "feed", "url": news.feed_url, "topics": ["city"],
                     "allow_private": True},
                    {"name": "gone-feed", "kind": "feed", "url": http_server.url("/gone.xml"), "allow_private": True}],
        "ingest": {"per_host_delay_seconds": 0},
        "service": {"jitter_seconds": 0, "summarise_interval_seconds": 0.5},
    })
    config = load_config(path)

    async with running(Service(config, engine=engine)) as svc:
        await eventually(lambda: svc.app.store.count_briefs() == 1, what="a brief")
        await eventually(lambda: (s := svc.app.store.get_source("gone-feed")) and s.last_error, what="a failure")
        await asyncio.sleep(0.3)
        assert await asyncio.to_thread(main, ["status", "--config", str(path)]) == 0
        while_running = capsys.readouterr().out
        holder = svc.lease.holder
    assert main(["status", "--config", str(path)]) == 0
    after_stop = capsys.readouterr().out

    gone = next(line for line in while_running.splitlines() if "gone-feed" in line)
    assert "410" in gone and "active" in gone
    assert "articles waiting for a brief: 0" in while_running
    assert "briefs written: 1" in while_running
    assert "poll:local-news" in while_running and "summarise" in while_running
    assert f"Active instance: {holder}" in while_running
    assert "Active instance: none running" in after_stop
