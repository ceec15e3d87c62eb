"""Issue 8 row 5: one fetch policy for every URL the service fetches on anyone's behalf.

A canary server on loopback counts the connections it gets: a refused URL must never reach it.
Where a test needs a "public" host it lets exactly 127.0.0.1 stand in for one (``ip_allowed``),
and puts the internal target on another loopback address (127.0.0.2), still refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from briefing.errors import BlockedURLError
from briefing.ingest import Fetcher, Ingester
from briefing.store import Store
from tests.builders import Item, article_text, html_page, rss
from tests.support.config import make_config
from tests.support.http import LocalHTTPServer, Response, loopback_is_public


def _canary(host: str) -> Iterator[LocalHTTPServer]:
    """An internal service we must not reach: it counts every connection, answered or not."""
    server = LocalHTTPServer(host).start()
    for path in ("/", "/admin", "/secret"):
        server.route(path, Response(b"ok"))
    yield server
    server.stop()


@pytest.fixture
def canary() -> Iterator[LocalHTTPServer]:
    yield from _canary("127.0.0.1")


@pytest.fixture
def canary2() -> Iterator[LocalHTTPServer]:
    yield from _canary("127.0.0.2")


@pytest.mark.parametrize("template", [
    "http://127.0.0.1:{port}/",                 # loopback
    "http://localhost:{port}/",                 # a name for loopback
    "http://[::ffff:127.0.0.1]:{port}/",        # IPv4-mapped IPv6
    "http://2130706433:{port}/",                # decimal IPv4
    "http://0x7f000001:{port}/",                # hex IPv4
    "http://0x7f.1:{port}/",                    # short hex form
    "http://public.example@127.0.0.1:{port}/",  # credentials hiding the real host
    "http://user:secret@127.0.0.1:{port}/",     # credentials
])
def test_internal_and_disguised_addresses_are_refused(tmp_path: Path, canary: LocalHTTPServer, template: str) -> None:
    with Fetcher(make_config(tmp_path).ingest) as fetcher, pytest.raises(BlockedURLError):
        fetcher.fetch(template.format(port=canary.port))
    assert canary.connections == 0


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.10", "172.16.0.1", "169.254.169.254",
                                     "fe80::1", "fd00:ec2::254", "100.64.0.1", "0.0.0.0", "::1"])
def test_names_resolving_to_private_or_link_local_addresses_are_refused(tmp_path: Path, address: str) -> None:
    with Fetcher(make_config(tmp_path).ingest, resolver=lambda host, port: ["93.184.216.34", address]) as fetcher:
        with pytest.raises(BlockedURLError, match="non-public"):
            fetcher.fetch("http://news.example/feed.xml")  # one bad address is enough


def test_a_redirect_to_an_internal_address_is_refused(tmp_path: Path, http_server: LocalHTTPServer,
                                                      canary2: LocalHTTPServer) -> None:
    http_server.route("/go", Response(b"", 302, headers={"Location": f"http://127.0.0.2:{canary2.port}/admin"}))
    with Fetcher(make_config(tmp_path).ingest, ip_allowed=loopback_is_public) as fetcher:
        with pytest.raises(BlockedURLError):
            fetcher.fetch(http_server.url("/go"))
    assert canary2.connections == 0 and len(http_server.requests) == 1


def _feed_with_internal_links(server: LocalHTTPServer, canary: LocalHTTPServer, metadata: bool = True) -> None:
    items = [Item("Metadata", "http://169.254.169.254/latest/meta-data/", "s")] if metadata else []
    items += [Item("Internal", f"http://127.0.0.2:{canary.port}/secret", "s"),
              Item("Good story", server.url("/story"), "s")]
    server.route("/feed.xml", Response(rss(items), headers={"Content-Type": "application/rss+xml"}))
    server.route("/story", Response(html_page("Good story", article_text("the harbour")),
                                    headers={"Content-Type": "text/html"}))


def test_item_links_of_a_configured_feed_get_the_same_policy(tmp_path: Path, http_server: LocalHTTPServer,
                                                             canary2: LocalHTTPServer, sqlite_store: Store) -> None:
    _feed_with_internal_links(http_server, canary2)
    config = make_config(tmp_path, sources=[{"name": "wire", "kind": "feed", "url": http_server.url("/feed.xml")}])
    fetcher = Fetcher(config.ingest, ip_allowed=loopback_is_public)
    report = Ingester(config, sqlite_store, fetcher).poll(config.sources[0])
    assert report.added == 1 and canary2.connections == 0
    assert [a.title for a in sqlite_store.pending_articles()] == ["Good story"]
    assert sum("non-public" in s for s in report.skipped) == 2


def test_a_configured_source_on_loopback_needs_allow_private(tmp_path: Path, http_server: LocalHTTPServer,
                                                             canary2: LocalHTTPServer, sqlite_store: Store) -> None:
    _feed_with_internal_links(http_server, canary2, metadata=False)  # (the guard forbids leaving loopback)
    source = {"name": "intranet", "kind": "feed", "url": http_server.url("/feed.xml")}
    closed = make_config(tmp_path, sources=[source])
    report = Ingester(closed, sqlite_store, Fetcher(closed.ingest)).poll(closed.sources[0])
    assert "non-public address" in (report.error or "") and http_server.requests == []
    opened = make_config(tmp_path, sources=[{**source, "allow_private": True}])
    report = Ingester(opened, sqlite_store, Fetcher(opened.ingest)).poll(opened.sources[0])
    assert report.added >= 1 and canary2.connections == 1  # opted in: its item links may be internal too
