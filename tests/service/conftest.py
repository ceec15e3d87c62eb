"""Fixtures for the service tests: a local news site whose feed grows, a shared engine."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from briefing.config import Config, SummariserConfig
from briefing.service.runner import Service
from briefing.summarise import Engine, build_engine
from tests.builders import Item, article_text, html_page, rss
from tests.conftest import REPO, make_config
from tests.httpserver import LocalHTTPServer, Request, Response


class NewsSite:
    """A feed on a real local HTTP server; ``publish()`` adds a story the next poll finds."""

    def __init__(self, server: LocalHTTPServer, path: str = "/feed.xml") -> None:
        self.server, self.path = server, path
        self.items: list[Item] = []
        self.status = 200  # set to 500 to make the feed fail
        self.hits: list[float] = []  # monotonic times the feed was fetched
        server.route(path, self._feed)

    def _feed(self, _req: Request) -> Response:
        self.hits.append(time.monotonic())
        if self.status != 200:
            return Response(b"unavailable", self.status)
        return Response(rss(self.items), headers={"Content-Type": "application/rss+xml"})

    def publish(self, title: str, topic: str) -> str:
        page = f"/story{len(self.items)}.html"
        self.server.route(page, Response(html_page(title, article_text(topic)),
                                         headers={"Content-Type": "text/html; charset=utf-8"}))
        self.items.append(Item(title, self.server.url(page), "summary"))
        return self.server.url(page)

    @property
    def feed_url(self) -> str:
        return self.server.url(self.path)



@pytest.fixture
def news(http_server: LocalHTTPServer) -> NewsSite:
    return NewsSite(http_server)


@pytest.fixture(scope="session")
def engine() -> Engine:
    """One extractive engine (spaCy, ~0.5 s to load) for all in-process services."""
    return build_engine(SummariserConfig())


def service_config(tmp_path: Path, news: NewsSite, *, interval_minutes: float = 60.0,
                   **overrides: Any) -> Config:
    """Fast service settings: no jitter, short intervals, a short shutdown bound."""
    service = {"jitter_seconds": 0, "summarise_interval_seconds": 0.5, "deliver_interval_seconds": 0.5,
               "digest_check_seconds": 0.5, "shutdown_timeout_seconds": 5, **overrides.pop("service", {})}
    sources = [{"name": "local-news", "kind": "feed", "url": news.feed_url, "topics": ["city"], "allow_private": True,
                "interval_minutes": interval_minutes}]
    return make_config(tmp_path, sources=sources, service=service, **overrides)


@asynccontextmanager
async def running(service: Service) -> AsyncIterator[Service]:
    """A started service, stopped at the end even when the test fails."""
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


async def eventually(check: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    """Poll ``check`` (blocking calls allowed) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(check)
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


def write_config(path: Path, data: dict[str, Any]) -> Path:
    # The service's web server on any free port, so tests (and two instances) never collide.
    service = data.get("service", {})
    data = {**data, "service": {"http_port": 0, **service}}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


class ServiceProcess:
    """``python -m briefing run`` as a subprocess, its log collected line by line."""

    def __init__(self, config_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        full_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "briefing", "run", "--config", str(config_path), *args],
            cwd=REPO, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in the service log (exit {self.proc.returncode}):\n{self.log}")
            time.sleep(0.05)

    def terminate(self, timeout: float = 30.0, sig: int = signal.SIGTERM) -> tuple[int, float]:
        """SIGTERM (or ``sig``); (exit status, seconds it took to exit)."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self._reader.join(2)
        return rc, time.monotonic() - started
