"""Issue 8 rows 2 and 8, and the smaller ingest items: untrusted documents cannot stall the service.

Real hostile documents: a YAML alias bomb in a watched folder, a 540 KB feed with 50,000
attributes (a minute of feedparser here), a symlink out of the folder; and a real ``briefing run``
process stopped with SIGTERM while that feed is being parsed.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from briefing.errors import ParseError
from briefing.ingest import Fetcher, Ingester
from briefing.ingest.sandbox import ParseSandbox
from briefing.store import Store
from tests.builders import Item, article_text, html_page, rss
from tests.support.config import make_config
from tests.support.http import LocalHTTPServer, Response
from tests.support.process import ServiceProcess, write_config

BODY = "The harbour board met on Monday and approved the new quay plan after a long debate. " * 6


def alias_bomb(levels: int = 8) -> str:
    """Eight nested alias levels (as in the issue): 9**8 (43 million) strings once expanded, from under 1 KB."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append(f"title: *{chr(ord('a') + levels - 1)}")
    return "---\n" + "\n".join(lines) + "\n---\n"


def huge_attribute_feed(attributes: int = 50_000) -> bytes:
    attrs = " ".join(f'a{i}="x"' for i in range(attributes))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item {attrs}>'
            f"<title>x</title><link>http://127.0.0.1/1</link></item></channel></rss>").encode()


def folder_ingester(tmp_path: Path, store: Store, **ingest: object) -> tuple[Ingester, object]:
    config = make_config(tmp_path, sources=[{"name": "drop", "kind": "folder", "path": "drop"}], ingest=ingest)
    (tmp_path / "drop").mkdir(exist_ok=True)
    return Ingester(config, store, Fetcher(config.ingest)), config.sources[0]


def test_a_yaml_alias_bomb_in_a_watched_folder_is_harmless(tmp_path: Path, sqlite_store: Store) -> None:
    ingester, src = folder_ingester(tmp_path, sqlite_store)
    (tmp_path / "drop" / "bomb.md").write_text(alias_bomb() + "# Harbour plan approved\n\n" + BODY)
    started = time.monotonic()
    try:
        report = ingester.poll(src)  # type: ignore[arg-type]
    finally:
        ingester.close()
    assert time.monotonic() - started < 15  # in-process this expanded to gigabytes and minutes
    assert report.error is None and report.added == 1
    [article] = sqlite_store.pending_articles()
    assert article.title == "Harbour plan approved" and "lol" not in article.title


def test_a_parse_over_the_time_limit_is_killed_and_the_next_one_works(tmp_path: Path) -> None:
    sandbox = ParseSandbox(timeout_seconds=3, max_memory_mb=1024)
    try:
        sandbox.run("feed", rss([Item("warm-up", "http://127.0.0.1/w")]).encode(), "http://127.0.0.1/")
        started = time.monotonic()
        with pytest.raises(ParseError, match="longer than 3 s"):
            sandbox.run("feed", huge_attribute_feed(), "http://127.0.0.1/feed.xml")
        assert time.monotonic() - started < 8
        entries = sandbox.run("feed", rss([Item("Fine", "http://127.0.0.1/fine")]).encode(), "http://127.0.0.1/")
        assert [e.title for e in entries] == ["Fine"]  # a fresh child took over
    finally:
        sandbox.close()


def test_a_symlink_out_of_the_watched_folder_is_not_ingested(tmp_path: Path, sqlite_store: Store) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("Secret title\n\n" + BODY)
    ingester, src = folder_ingester(tmp_path, sqlite_store)
    (tmp_path / "drop" / "passwd.txt").symlink_to(secret)
    try:
        report = ingester.poll(src)  # type: ignore[arg-type]
    finally:
        ingester.close()
    assert report.added == 0 and sqlite_store.count_articles() == 0
    assert "outside the folder" in report.skipped[0]


def test_folder_files_respect_min_article_chars(tmp_path: Path, sqlite_store: Store) -> None:
    ingester, src = folder_ingester(tmp_path, sqlite_store, min_article_chars=200)
    (tmp_path / "drop" / "short.txt").write_text("Short note\n\nJust a line.")
    (tmp_path / "drop" / "long.txt").write_text("Long story\n\n" + BODY)
    try:
        report = ingester.poll(src)  # type: ignore[arg-type]
    finally:
        ingester.close()
    assert [a.title for a in sqlite_store.pending_articles()] == ["Long story"]
    assert report.added == 1 and "min_article_chars" in report.skipped[0]


def test_an_oldest_first_feed_longer_than_the_poll_limit_yields_its_newest(
        tmp_path: Path, http_server: LocalHTTPServer, sqlite_store: Store) -> None:
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    items = []
    for n in range(8):  # oldest first, as some feeds list them
        page = f"/s{n}"
        http_server.route(page, Response(html_page(f"Story {n}", article_text(f"topic {n}")),
                                         headers={"Content-Type": "text/html"}))
        items.append(Item(f"Story {n}", http_server.url(page), "s", start + timedelta(hours=n)))
    http_server.route("/feed.xml", Response(rss(items), headers={"Content-Type": "application/rss+xml"}))
    config = make_config(tmp_path, sources=[{"name": "f", "kind": "feed", "url": http_server.url("/feed.xml"),
                                             "allow_private": True}], ingest={"max_articles_per_poll": 3})
    ingester = Ingester(config, sqlite_store, Fetcher(config.ingest))
    try:
        ingester.poll(config.sources[0])
    finally:
        ingester.close()
    assert sorted(a.title for a in sqlite_store.pending_articles()) == ["Story 5", "Story 6", "Story 7"]


def test_sigterm_during_a_stuck_parse_keeps_the_shutdown_bound(tmp_path: Path, http_server: LocalHTTPServer) -> None:
    """The real service, a real SIGTERM while a hostile feed is being parsed (a minute in-process) and
    an alias bomb sits in its watched folder (in-process: 4.7 GB and a 77 s exit, per the issue)."""
    http_server.route("/hostile.xml", Response(huge_attribute_feed(), headers={"Content-Type": "application/rss+xml"}))
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "bomb.md").write_text(alias_bomb() + "# Harbour plan approved\n\n" + BODY)
    config = write_config(tmp_path / "config.yaml", {
        "data_dir": str(tmp_path / "data"),
        "sources": [{"name": "hostile", "kind": "feed", "url": http_server.url("/hostile.xml"), "allow_private": True},
                    {"name": "drop", "kind": "folder", "path": str(tmp_path / "drop")}],
        "ingest": {"per_host_delay_seconds": 0, "parse_timeout_seconds": 300},
        "service": {"jitter_seconds": 0, "shutdown_timeout_seconds": 4},
    })
    proc = ServiceProcess(config)
    proc.wait_for("briefing is running", timeout=60)
    proc.wait_until(lambda: http_server.requests, "the hostile feed's fetch", timeout=20)
    time.sleep(2.0)  # the parse is well under way
    rc, seconds = proc.terminate()
    assert rc == 0, proc.log
    assert seconds < 4 + 1.0, f"took {seconds:.1f}s to stop:\n{proc.log}"
