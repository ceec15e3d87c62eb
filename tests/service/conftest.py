"""Fixtures for the service tests: a local news site whose feed grows, a service in this process
(``briefing run`` as a process is tests/support/process.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from briefing.config import Config
from briefing.service.runner import Service
from tests.builders import Item, article_text, html_page, rss
from tests.support.config import make_config
from tests.support.http import LocalHTTPServer, Request, Response


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
