"""The shared harnesses as fixtures; registered once, by ``pytest_plugins`` in ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support.botapi import BotAPIServer
from tests.support.http import LocalHTTPServer
from tests.support.smtp import Mailbox, SmtpServer, serve_smtp


@pytest.fixture
def http_server() -> Iterator[LocalHTTPServer]:
    """A real HTTP server on 127.0.0.1; add routes, then read what it was asked."""
    server = LocalHTTPServer().start()
    yield server
    server.stop()


@pytest.fixture
async def botapi() -> AsyncIterator[BotAPIServer]:
    """The Bot API server on the test's event loop (for a bot running in the same process)."""
    server = await BotAPIServer().start()
    yield server
    await server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that accepts and records every message."""
    with serve_smtp(Mailbox()) as server:
        yield server
