"""Ingest: feeds, conditional GET, failures recorded with back-off, cleaning, dedup."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from briefing.config import Config
from briefing.errors import FetchTimeout, HTTPStatusError, ParseError, TooLargeError
from briefing.ingest import Fetcher, Ingester
from briefing.ingest.clean import clean_article
from briefing.ingest.feeds import parse_feed
from briefing.store import Store
from briefing.store.schema import utcnow
from tests.builders import Item, article_text, atom, html_page, rss, rss1
from tests.support.config import SEED_ARTICLE, make_config
from tests.support.http import LocalHTTPServer, Request, Response


def feed_config(tmp_path: Path, server: LocalHTTPServer, *names: str, **ingest: object) -> Config:
    sources = [{"name": n, "kind": "feed", "url": server.url(f"/{n}.xml"), "topics": ["news"],
                "allow_private": True} for n in names]
    return make_config(tmp_path, sources=sources, ingest=ingest)


def serve_articles(server: LocalHTTPServer, n: int, prefix: str = "a") -> list[Item]:
    items = []
    for i in range(n):
        path = f"/{prefix}{i}.html"
        server.route(path, Response(html_page(f"Story {prefix}{i}", article_text(f"story {prefix}{i} topic {i}")),
                                    headers={"Content-Type": "text/html; charset=utf-8"}))
        items.append(Item(f"Story {prefix}{i}", server.url(path), "short summary"))
    return items


def ingester(config: Config, store: Store) -> Ingester:
    return Ingester(config, store, Fetcher(config.ingest))


# -- feed formats ---------------------------------------------------------------


@pytest.mark.parametrize("render", [rss, rss1, atom, lambda items: rss(items, version="0.91")],
                         ids=["rss2", "rss1", "atom", "rss091"])
def test_feed_formats_yield_entries(render) -> None:  # type: ignore[no-untyped-def]
    items = [Item("One & two", "http://news.test/1"), Item("Three", "/relative/3")]
    entries = parse_feed(render(items).encode(), "http://news.test/feed.xml")
    assert [e.title for e in entries] == ["One & two", "Three"]
    assert entries[1].url == "http://news.test/relative/3"


def test_malformed_feed_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not a valid RSS or Atom feed"):
        parse_feed(b"<rss><channel><item><title>broken", "http://news.test/feed.xml")
    with pytest.raises(ParseError, match="empty feed document"):
        parse_feed(b"   ", "http://news.test/feed.xml")
    with pytest.raises(ParseError):
        parse_feed(b"<html><body>not a feed</body></html>", "http://news.test/feed.xml")


# -- polling against a real local server ----------------------------------------


def test_feed_ingest_fetches_full_text_and_honours_304(tmp_path: Path, http_server: LocalHTTPServer,
                                                       sqlite_store: Store) -> None:
    items = serve_articles(http_server, 2)

    def feed(req: Request) -> Response:
        if req.headers.get("if-none-match") == '"v1"':
            return Response(b"", 304, {"ETag": '"v1"'})
        return Response(rss(items), headers={"ETag": '"v1"', "Last-Modified": "Fri, 20 Nov 2026 12:00:00 GMT",
                                             "Content-Type": "application/rss+xml"})

    http_server.route("/world.xml", feed)
    cfg = feed_config(tmp_path, http_server, "world")
    ing = ingester(cfg, sqlite_store)
    first = ing.poll_all(force=True)[0]
    assert (first.added, first.error) == (2, None)
    article = sqlite_store.pending_articles()[0]
    assert "Paragraph 3 about story a0" in article.text  # full text came from the linked page
    assert "Share this article" not in article.text

    second = ing.poll_all(force=True)[0]
    assert second.not_modified and second.added == 0
    feed_requests = [r for r in http_server.requests if r.path == "/world.xml"]
    assert feed_requests[1].headers["if-none-match"] == '"v1"'
    assert feed_requests[1].headers["if-modified-since"] == "Fri, 20 Nov 2026 12:00:00 GMT"
    assert "briefing/" in feed_requests[0].headers["user-agent"]
    assert sqlite_store.count_articles() == 2


def test_failing_source_is_recorded_with_backoff_and_others_carry_on(
        tmp_path: Path, http_server: LocalHTTPServer, sqlite_store: Store) -> None:
    items = serve_articles(http_server, 1)
    http_server.route("/good.xml", Response(rss(items)))
    http_server.route("/broken.xml", Response(b"<rss><channel><item>oops", 200))
    http_server.route("/down.xml", Response(b"boom", 503))
    cfg = feed_config(tmp_path, http_server, "broken", "down", "good", retry_base_seconds=60)
    reports = {r.source: r for r in ingester(cfg, sqlite_store).poll_all(force=True)}
    assert reports["good"].added == 1
    assert "not a valid RSS or Atom feed" in (reports["broken"].error or "")
    assert "HTTP 503" in (reports["down"].error or "")
    rows = {s.name: s for s in sqlite_store.list_sources()}
    assert rows["down"].consecutive_failures == 1 and "HTTP 503" in (rows["down"].last_error or "")
    delay = rows["down"].next_poll_at - rows["down"].last_polled_at
    assert timedelta(seconds=59) < delay < timedelta(seconds=61)
    # A second failure doubles the back-off; a source in back-off is not due.
    ing = ingester(cfg, sqlite_store)
    assert "down" not in [s.name for s in ing.due()]
    ing.poll(cfg.source("down"))
    row = sqlite_store.get_source("down")
    assert row.consecutive_failures == 2
    assert timedelta(seconds=119) < row.next_poll_at - row.last_polled_at < timedelta(seconds=121)
    # Recovery clears the error.
    http_server.route("/down.xml", Response(rss(items)))
    ing.poll(cfg.source("down"))
    row = sqlite_store.get_source("down")
    assert (row.consecutive_failures, row.last_error, row.failure_count) == (0, None, 2)


@pytest.mark.parametrize("response, expected", [
    (Response(b"x" * 5000, headers={"Content-Type": "application/rss+xml"}), "over the 4,000-byte cap"),
    (Response(b"", 200), "empty feed document"),
    (Response(b"\xff\xfe<rss>\x81\x82</rss>", 200), "not a valid RSS or Atom feed"),
    (Response(rss([]), 200, delay=1.5), "no answer within 1 s"),
    (Response(b"gone", 404), "HTTP 404"),
])
def test_feed_failures_have_clear_reasons(tmp_path: Path, http_server: LocalHTTPServer, sqlite_store: Store,
                                          response: Response, expected: str) -> None:
    http_server.route("/f.xml", response)
    cfg = feed_config(tmp_path, http_server, "f", max_bytes=4000, timeout_seconds=1)
    report = ingester(cfg, sqlite_store).poll_all(force=True)[0]
    assert report.error and expected in report.error
    assert expected in (sqlite_store.get_source("f").last_error or "")


def test_page_failure_falls_back_to_feed_summary_or_skips(tmp_path: Path, http_server: LocalHTTPServer,
                                                          sqlite_store: Store) -> None:
    long_summary = article_text("fallback story")
    items = [Item("Has summary", http_server.url("/missing1.html"), long_summary),
             Item("No summary", http_server.url("/missing2.html"), "short")]
    http_server.route("/f.xml", Response(rss(items)))
    cfg = feed_config(tmp_path, http_server, "f")
    report = ingester(cfg, sqlite_store).poll_all(force=True)[0]
    assert report.added == 1 and report.error is None
    assert len(report.skipped) == 1 and "not an article" in report.skipped[0]
    assert "fallback story" in sqlite_store.pending_articles()[0].text


def test_non_utf8_page_without_charset_is_skipped_not_garbled(tmp_path: Path, http_server: LocalHTTPServer,
                                                              sqlite_store: Store) -> None:
    http_server.route("/bad.html", Response(("<html><body><p>" + "caf\xe9 " * 100 + "</p></body></html>")
                                            .encode("latin-1"), headers={"Content-Type": "text/html"}))
    http_server.route("/latin.html", Response(html_page("Latin", article_text("café")).encode("latin-1"),
                                              headers={"Content-Type": "text/html; charset=iso-8859-1"}))
    http_server.route("/f.xml", Response(rss([Item("Bad", http_server.url("/bad.html")),
                                              Item("Latin", http_server.url("/latin.html"))])))
    report = ingester(feed_config(tmp_path, http_server, "f"), sqlite_store).poll_all(force=True)[0]
    assert report.added == 1
    assert "not valid UTF-8" in report.skipped[0]
    assert "café" in sqlite_store.pending_articles()[0].text


def test_fetcher_limits(http_server: LocalHTTPServer, config: Config) -> None:
    http_server.route("/big", Response(b"x" * 10_000))
    http_server.route("/slow", Response(b"ok", delay=1.5))
    http_server.route("/loop", Response(b"", 302, {"Location": "/loop"}))
    cfg = config.ingest.model_copy(update={"max_bytes": 1000, "timeout_seconds": 0.5, "max_redirects": 3})
    with Fetcher(cfg) as f:
        with pytest.raises(TooLargeError):
            f.fetch(http_server.url("/big"), allow_private=True)
        with pytest.raises(FetchTimeout):
            f.fetch(http_server.url("/slow"), allow_private=True)
        with pytest.raises(Exception, match="more than 3 redirects"):
            f.fetch(http_server.url("/loop"), allow_private=True)
        with pytest.raises(HTTPStatusError) as info:
            f.fetch(http_server.url("/nothing"), allow_private=True)
        assert info.value.status == 404 and not info.value.retryable


def test_per_host_politeness_spaces_requests(http_server: LocalHTTPServer, config: Config) -> None:
    http_server.route("/a", Response(b"ok"))
    slept: list[float] = []
    now = [100.0]
    cfg = config.ingest.model_copy(update={"per_host_delay_seconds": 2.0})
    with Fetcher(cfg, clock=lambda: now[0], sleep=slept.append) as f:
        f.fetch(http_server.url("/a"), allow_private=True)
        f.fetch(http_server.url("/a"), allow_private=True)
        now[0] += 5
        f.fetch(http_server.url("/a"), allow_private=True)
    assert slept == [2.0]


# -- local folder and files -----------------------------------------------------


def test_folder_source_reads_txt_md_html_and_skips_bad_files(tmp_path: Path, sqlite_store: Store) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("A title\n\n" + article_text("alpha"))
    (folder / "b.md").write_text("---\ntitle: Beta story\npublished: 2026-11-01T10:00:00Z\n---\n"
                                 + "# Ignored heading\n\n" + article_text("beta **bold**"))
    (folder / "c.html").write_text(html_page("Gamma", article_text("gamma")))
    (folder / "d.txt").write_bytes(b"\xff\xfe broken bytes")
    (folder / "e.jpg").write_bytes(b"not an article")
    cfg = make_config(tmp_path, sources=[{"name": "dir", "kind": "folder", "path": "in"}])
    report = ingester(cfg, sqlite_store).poll_all(force=True)[0]
    assert (report.added, report.found) == (3, 4)
    assert "d.txt" in report.skipped[0] and "not valid UTF-8" in report.skipped[0]
    titles = {a.title: a for a in sqlite_store.pending_articles()}
    assert set(titles) == {"A title", "Beta story", "Gamma"}
    assert titles["Beta story"].published_at.isoformat().startswith("2026-11-01T10:00")
    assert "**" not in titles["Beta story"].text


def test_missing_folder_is_a_recorded_failure(tmp_path: Path, sqlite_store: Store) -> None:
    cfg = make_config(tmp_path, sources=[{"name": "dir", "kind": "folder", "path": "nope"}])
    report = ingester(cfg, sqlite_store).poll_all(force=True)[0]
    assert "folder not found" in (report.error or "")


# -- cleaning the seed ----------------------------------------------------------


def test_seed_article_is_cleaned() -> None:
    title, text = clean_article(SEED_ARTICLE.read_text(encoding="utf-8"))
    assert title == "Russian President warns against any foreign interference in Belarus"
    assert title not in text  # the repeated title is gone
    assert "हिंदी" not in text and "मराठी" not in text  # the language menu is gone
    assert "Click below" not in text and "express your thoughts" not in text
    assert "\u2018" not in text and "\u2019" not in text  # quotes normalised
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == 5  # paragraphs kept
    assert paragraphs[0].startswith("Moscow/Minsk: Russian President Vladimir Putin")
    assert paragraphs[-1].endswith("use force for crushing protests.")
    assert "  " not in text


def test_cleaning_keeps_long_paragraphs_that_mention_trigger_words() -> None:
    para = ("Officials said they would read more of the report before deciding, and asked citizens to share "
            "their views on the cookie factory closure in a public consultation lasting several weeks " * 2)
    _, text = clean_article("Title\n\n" + para + "\n\nShare this on Facebook")
    assert text == " ".join(para.split())


def test_page_source_with_conditional_get(tmp_path: Path, http_server: LocalHTTPServer, sqlite_store: Store) -> None:
    page = html_page("Council backs bridge", article_text("the new bridge"))

    def handler(req: Request) -> Response:
        if req.headers.get("if-modified-since") == "Thu, 19 Nov 2026 08:00:00 GMT":
            return Response(b"", 304)
        return Response(page, headers={"Last-Modified": "Thu, 19 Nov 2026 08:00:00 GMT",
                                       "Content-Type": "text/html; charset=utf-8"})

    http_server.route("/story", handler)
    cfg = make_config(tmp_path, sources=[{"name": "p", "kind": "page", "url": http_server.url("/story?utm_campaign=x"),
                                                    "allow_private": True}])
    ing = ingester(cfg, sqlite_store)
    assert ing.poll_all(force=True)[0].added == 1
    assert ing.poll_all(force=True)[0].not_modified
    article = sqlite_store.pending_articles()[0]
    assert article.title == "Council backs bridge" and article.url == http_server.url("/story")
    http_server.route("/story", Response(b"<html><body><nav>Home</nav></body></html>"))
    sqlite_store.record_poll_success("p", etag=None, last_modified=None, next_poll_at=utcnow())
    report = ing.poll_all()[0]
    assert report.error and "not an article" in report.error


def test_runtime_added_sources_are_polled_safely_as_feed_or_page(
        tmp_path: Path, http_server: LocalHTTPServer, sqlite_store: Store) -> None:
    """Sources added with /addsource (kind adhoc in the store) are polled, feed or page, SSRF-safe."""
    items = serve_articles(http_server, 1, prefix="rt")
    http_server.route("/feed", Response(rss(items), headers={"Content-Type": "text/xml"}))
    http_server.route("/page", Response(html_page("Page story", article_text("a runtime page")),
                                        headers={"Content-Type": "text/html"}))
    cfg = make_config(tmp_path)
    sqlite_store.add_source("chat-feed", "adhoc", http_server.url("/feed"), topics=["news"])
    sqlite_store.add_source("chat-page", "adhoc", http_server.url("/page"))
    # With the real policy, 127.0.0.1 is not public: a chat-added URL must not reach it.
    refused = {r.source: r for r in ingester(cfg, sqlite_store).poll_all(force=True)}
    assert "non-public address" in (refused["chat-feed"].error or "")
    assert http_server.requests == []
    # Where 127.0.0.1 stands in for a public host, both are polled and told apart.
    fetcher = Fetcher(cfg.ingest, ip_allowed=lambda ip: str(ip) == "127.0.0.1")
    reports = {r.source: r for r in Ingester(cfg, sqlite_store, fetcher).poll_all(force=True)}
    assert reports["chat-feed"].added == 1 and reports["chat-page"].added == 1
    assert {a.title for a in sqlite_store.pending_articles()} == {"Story rt0", "Page story"}


def test_gone_source_waits_the_longest_back_off(tmp_path: Path, http_server: LocalHTTPServer,
                                                sqlite_store: Store) -> None:
    http_server.route("/gone.xml", Response(b"gone", 410))
    http_server.route("/busy.xml", Response(b"busy", 429))
    cfg = feed_config(tmp_path, http_server, "gone", "busy", retry_base_seconds=60, retry_max_seconds=3600)
    ingester(cfg, sqlite_store).poll_all(force=True)
    gone, busy = sqlite_store.get_source("gone"), sqlite_store.get_source("busy")
    assert (gone.next_poll_at - gone.last_polled_at).total_seconds() == pytest.approx(3600, abs=1)
    assert (busy.next_poll_at - busy.last_polled_at).total_seconds() == pytest.approx(60, abs=1)
    assert "HTTP 410" in (gone.last_error or "") and gone.active  # still polled, just rarely
