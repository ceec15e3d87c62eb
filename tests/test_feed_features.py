"""What feed-bot users expect: JSON Feed, autodiscovery, include/exclude filters, OPML, progress, parallel polls."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest
import yaml

from briefing.cli import main
from briefing.errors import ConfigError, ParseError
from briefing.ingest import Fetcher, Ingester
from briefing.ingest.feeds import parse_feed
from briefing.ingest.opml import parse_opml
from briefing.store import Store
from tests.builders import Item, article_text, html_page, rss
from tests.support.config import make_config
from tests.support.http import LocalHTTPServer, Request, Response

HTML = {"Content-Type": "text/html; charset=utf-8"}


NEUTRAL = "monday officials meeting week council residents city plan road office report statement visit".split()


def plain_text(title: str) -> str:
    """A distinct article whose only words that filters look for are its title's."""
    rng = random.Random(title)
    return "\n\n".join(f"Paragraph {i} on {title}: " + " ".join(rng.choice(NEUTRAL) for _ in range(20)) + "."
                        for i in range(4))


def serve_pages(server: LocalHTTPServer, titles: list[str]) -> list[str]:
    urls = []
    for i, title in enumerate(titles):
        path = f"/story{i}.html"
        server.route(path, Response(html_page(title, plain_text(title)), headers=HTML))
        urls.append(server.url(path))
    return urls


def json_feed(titles: list[str], urls: list[str], version: str = "1.1") -> str:
    return json.dumps({"version": f"https://jsonfeed.org/version/{version}", "title": "Wire",
                       "items": [{"id": str(i), "url": u, "title": t, "content_text": "Short teaser.",
                                  "date_published": "2026-11-20T12:00:00Z"}
                                 for i, (t, u) in enumerate(zip(titles, urls))]})


def ingest(config, store: Store):  # type: ignore[no-untyped-def]
    with Fetcher(config.ingest) as fetcher:
        return Ingester(config, store, fetcher).poll_all(force=True)


# -- JSON Feed ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "1.1"])
def test_a_json_feed_source_is_read_like_any_feed(tmp_path: Path, http_server: LocalHTTPServer,
                                                  sqlite_store: Store, version: str) -> None:
    titles = ["Harbour plan approved", "River barrier opens"]
    urls = serve_pages(http_server, titles)
    http_server.route("/feed.json", Response(json_feed(titles, urls, version),
                                             headers={"Content-Type": "application/feed+json"}))
    config = make_config(tmp_path, sources=[{"name": "wire", "kind": "feed", "url": http_server.url("/feed.json"), "allow_private": True}])
    [report] = ingest(config, sqlite_store)
    assert (report.error, report.added) == (None, 2)
    stored = {a.title for a in sqlite_store.pending_articles()}
    assert stored == set(titles)


def test_json_feed_items_without_a_page_use_their_own_text() -> None:
    text = article_text("the tram line")
    doc = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": "1", "url": "/a", "title": "Tram", "content_text": text},
        {"id": "2", "title": "no link, skipped"}]}).encode()
    [entry] = parse_feed(doc, "http://news.test/feed.json")
    assert entry.url == "http://news.test/a" and "tram line" in entry.summary_html
    with pytest.raises(ParseError, match="not a JSON Feed"):
        parse_feed(b'{"version": "https://example.org/other", "jsonfeed.org/version/": 1}', "http://x/f")


# -- autodiscovery --------------------------------------------------------------


def test_an_auto_source_on_a_home_page_reads_the_feed_it_links_to(
        tmp_path: Path, http_server: LocalHTTPServer, sqlite_store: Store) -> None:
    titles = ["Harbour plan approved", "Ferry strike ends"]
    urls = serve_pages(http_server, titles)
    http_server.route("/feeds/all.xml", Response(rss([Item(t, u) for t, u in zip(titles, urls)]),
                                                 headers={"Content-Type": "application/rss+xml"}))
    head = '<link rel="alternate" type="application/rss+xml" title="All" href="/feeds/all.xml">'
    http_server.route("/", Response(html_page("Harbour Times", "Welcome to the home page.", head), headers=HTML))
    config = make_config(tmp_path, sources=[{"name": "home", "kind": "auto", "url": http_server.url("/"), "allow_private": True}])
    [report] = ingest(config, sqlite_store)
    assert (report.error, report.added) == (None, 2)
    assert {a.title for a in sqlite_store.pending_articles()} == set(titles)


# -- filters --------------------------------------------------------------------


def test_include_and_exclude_filters_apply_before_summarising(tmp_path: Path, http_server: LocalHTTPServer,
                                                              sqlite_store: Store) -> None:
    titles = ["Harbour plan approved", "Harbour workers strike", "Generated rates of rain", "Central banks meet"]
    urls = serve_pages(http_server, titles)
    http_server.route("/feed.xml", Response(rss([Item(t, u) for t, u in zip(titles, urls)]),
                                            headers={"Content-Type": "application/rss+xml"}))
    source = {"name": "wire", "kind": "feed", "url": http_server.url("/feed.xml"), "allow_private": True,
              "include": ["harbour", "/central banks?/", "rate"], "exclude": ["/\\bstrikes?\\b/"]}
    config = make_config(tmp_path, sources=[source])
    [report] = ingest(config, sqlite_store)
    # "rate" is a whole word: "Generated rates" matches neither it nor another include.
    assert (report.added, report.filtered) == (2, 2)
    assert {a.title for a in sqlite_store.pending_articles()} == {"Harbour plan approved", "Central banks meet"}
    fetched = len(http_server.requests)
    [again] = ingest(config, sqlite_store)
    assert again.added == 0 and len(http_server.requests) == fetched + 1  # the feed only: nothing refetched


def test_a_bad_filter_regex_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"sources\[0\]\.exclude.*not a valid regular expression"):
        make_config(tmp_path, sources=[{"name": "x", "kind": "feed", "url": "http://x/f", "exclude": ["/(/"]}])


# -- progress and parallel polls ------------------------------------------------


def test_progress_advances_per_article_not_per_source(tmp_path: Path, http_server: LocalHTTPServer,
                                                      sqlite_store: Store) -> None:
    titles = [f"Story number {i}" for i in range(4)]
    urls = serve_pages(http_server, titles)
    http_server.route("/feed.xml", Response(rss([Item(t, u) for t, u in zip(titles, urls)]),
                                            headers={"Content-Type": "application/rss+xml"}))
    config = make_config(tmp_path, sources=[{"name": "wire", "kind": "feed", "url": http_server.url("/feed.xml"), "allow_private": True}])
    seen: list[tuple[int, int]] = []
    stored_when_done: list[int] = []
    with Fetcher(config.ingest) as fetcher:
        ing = Ingester(config, sqlite_store, fetcher)

        def items(found: int, done: int) -> None:
            seen.append((found, done))
            if done:
                stored_when_done.append(sqlite_store.count_articles())

        ing.poll_all(force=True, item_progress=items)
    assert seen[0] == (4, 0) and sum(d for _, d in seen) == 4
    assert stored_when_done == [1, 2, 3, 4]  # each step is one article, reported as it is stored


def test_sources_on_different_hosts_are_polled_at_once_each_host_politely(
        tmp_path: Path, sqlite_store: Store) -> None:
    servers = [LocalHTTPServer(host=f"127.0.0.{n}").start() for n in (1, 2, 3)]
    active: dict[str, int] = {}
    overlap = {"hosts": 0, "same_host": 0}
    lock = threading.Lock()

    def slow(server: LocalHTTPServer, body: str, ctype: str):  # type: ignore[no-untyped-def]
        def handler(req: Request) -> Response:
            with lock:
                active[server.host] = active.get(server.host, 0) + 1
                overlap["same_host"] = max(overlap["same_host"], active[server.host])
                overlap["hosts"] = max(overlap["hosts"], sum(1 for v in active.values() if v))
            time.sleep(0.3)
            with lock:
                active[server.host] -= 1
            return Response(body, headers={"Content-Type": ctype})
        return handler

    try:
        sources = []
        for server in servers:
            items = []
            for i in range(2):
                title = f"Story {i} from {server.host}"
                server.route(f"/s{i}", slow(server, html_page(title, article_text(title)), "text/html"))
                items.append(Item(title, server.url(f"/s{i}")))
            server.route("/feed.xml", slow(server, rss(items), "application/rss+xml"))
            sources.append({"name": server.host, "kind": "feed", "url": server.url("/feed.xml"), "allow_private": True})
        config = make_config(tmp_path, sources=sources, ingest={"per_host_delay_seconds": 0.1})
        reports = ingest(config, sqlite_store)
    finally:
        for server in servers:
            server.stop()
    assert [r.added for r in reports] == [2, 2, 2]
    assert overlap["hosts"] >= 2 and overlap["same_host"] == 1  # hosts overlap; one request at a time per host


# -- OPML -------------------------------------------------------------------------

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>My feeds</title></head><body>
  <outline text="News">
    <outline text="World">
      <outline type="rss" text="Wire One" xmlUrl="https://one.example/feed.xml" htmlUrl="https://one.example/"/>
    </outline>
    <outline type="rss" text="Local Paper" xmlUrl="https://local.example/rss" category="city,harbour"/>
  </outline>
  <outline type="rss" title="Loose Feed" text="loose" xmlUrl="https://loose.example/atom"/>
  <outline type="rss" text="Not web" xmlUrl="file:///etc/passwd"/>
</body></opml>"""


def test_opml_nested_outlines_become_topics() -> None:
    feeds = {f.name: f for f in parse_opml(OPML.encode())}
    assert feeds["Wire One"].topics == ("news", "world")
    assert feeds["Local Paper"].topics == ("news", "city", "harbour")
    assert feeds["Loose Feed"].topics == ()
    with pytest.raises(ParseError, match="not an OPML document"):
        parse_opml(b"<rss/>")
    with pytest.raises(ParseError, match="DTDs and entities"):
        parse_opml(b'<!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>')


def test_sources_import_and_export_opml_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "sources": [
        {"name": "configured", "kind": "feed", "url": "https://conf.example/feed", "topics": ["economy"]}]}))
    opml = tmp_path / "in.opml"
    opml.write_text(OPML)
    assert main(["sources", "import", str(opml), "--config", str(config)]) == 0
    err = capsys.readouterr().err
    assert "3 source(s) added" in err and "not an http(s) URL" in err
    assert main(["--config", str(config), "sources", "import", str(opml)]) == 0  # again: nothing twice
    assert "0 source(s) added" in capsys.readouterr().err

    assert main(["sources", "--config", str(config)]) == 0  # the listing still works
    listing = capsys.readouterr().out
    assert all(name in listing for name in ("Wire One", "Local Paper", "Loose Feed", "configured"))

    out = tmp_path / "out.opml"
    assert main(["sources", "export", str(out), "--config", str(config)]) == 0
    exported = {f.url: f.topics for f in parse_opml(out.read_bytes())}
    assert exported == {"https://one.example/feed.xml": ("news", "world"),
                        "https://local.example/rss": ("news", "city", "harbour"),
                        "https://loose.example/atom": (), "https://conf.example/feed": ("economy",)}
