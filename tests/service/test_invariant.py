"""Issue 8, row 1: an article is either not summarised, or summarised WITH all its deliveries queued.

A real child process is killed (``os._exit``, no clean-up, like SIGKILL) right after a chosen
statement of the summarise step reaches the database; the parent then checks the invariant on
what the database holds, restarts the work, and checks that every brief reaches every chat.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import event, select

from briefing.config import Config
from briefing.models import ArticleDraft, Brief, DeliveryMatch
from briefing.app import App
from briefing.service.runner import Service
from briefing.store import Store
from briefing.store.schema import Article, BriefRow, Delivery
from briefing.summarise import Engine
from tests.service.conftest import NewsSite, running, service_config
from tests.support.config import REPO, make_config
from tests.support.wait import eventually

CHATS = (701, 702, 703)
ARTICLES = 3

CHILD = r"""
import os, sys
from sqlalchemy import event
from briefing.config import load_config
from briefing.app import App

pattern, nth = sys.argv[2], int(sys.argv[3])
app = App(load_config(sys.argv[1]))
seen = 0

@event.listens_for(app.store.engine, "after_cursor_execute")
def die(conn, cursor, statement, params, context, executemany):
    global seen
    if statement.lstrip().upper().startswith(pattern):
        seen += 1
        if seen == nth:
            os._exit(9)  # dies like SIGKILL: no rollback, no clean-up

app.summarise_pending()
os._exit(0)
"""


def _seed(config: Config) -> None:
    store = Store.open(config.db_url)
    try:
        store.sync_sources(config.source_specs())
        for chat in CHATS:
            sub = store.telegram_subscriber(chat)
            store.subscribe(sub.id, "topic", "harbour")
        for n in range(ARTICLES):
            text = f"Story {n}. " + "The harbour board met on Monday and approved the new quay plan. " * 8
            store.add_article(ArticleDraft(f"https://news.example/{n}", f"Harbour story {n}", text,
                                           datetime(2026, 11, 27, tzinfo=timezone.utc), "harbour-news"),
                              source_name="harbour-news", fingerprint=[])
    finally:
        store.close()


def _check_invariant(store: Store) -> tuple[int, int]:
    """(summarised articles, deliveries); fails if a summarised article lacks a delivery."""
    with store.session() as s:
        summarised = list(s.scalars(select(Article.id).where(Article.status == "summarised")))
        for article_id in summarised:
            brief_id = s.scalar(select(BriefRow.id).where(BriefRow.article_id == article_id))
            assert brief_id is not None
            chats = s.scalars(select(Delivery.subscriber_id).where(Delivery.brief_id == brief_id)).all()
            assert len(chats) == len(CHATS), f"article {article_id} summarised with {len(chats)} deliveries"
        return len(summarised), len(s.scalars(select(Delivery.id)).all())


def _config(tmp_path: Path) -> tuple[Config, Path]:
    sources = [{"name": "harbour-news", "kind": "feed", "url": "http://127.0.0.1:9/feed.xml",
                "topics": ["harbour"]}]
    config = make_config(tmp_path, sources=sources)
    path = tmp_path / "config.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\nsources:\n  - name: harbour-news\n    kind: feed\n"
                    f"    url: http://127.0.0.1:9/feed.xml\n    topics: [harbour]\n", encoding="utf-8")
    return config, path


@pytest.mark.parametrize(("pattern", "nth"), [("INSERT INTO BRIEFS", 1), ("UPDATE ARTICLES", 1),
                                              ("INSERT INTO DELIVERIES", 1), ("INSERT INTO DELIVERIES", 2)])
def test_a_process_killed_while_summarising_leaves_no_brief_without_its_deliveries(
        tmp_path: Path, engine: Engine, pattern: str, nth: int) -> None:
    config, path = _config(tmp_path)
    _seed(config)
    child = subprocess.run([sys.executable, "-c", CHILD, str(path), pattern, str(nth)], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 9, child.stderr[-2000:]  # it really died at that statement
    app = App(config, engine=engine)
    try:
        done_before, _ = _check_invariant(app.store)
        assert done_before < ARTICLES
        app.summarise_pending()  # the restart carries on
        done, deliveries = _check_invariant(app.store)
        assert (done, deliveries) == (ARTICLES, ARTICLES * len(CHATS))
    finally:
        app.close()


def test_a_locked_database_is_retried_later_not_a_failed_article(tmp_path: Path, engine: Engine) -> None:
    config, _ = _config(tmp_path)
    _seed(config)
    app = App(config, engine=engine)
    locked = {"left": 1}

    def lock(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO deliveries") and locked["left"]:
            locked["left"] -= 1
            raise sqlite3.OperationalError("database is locked")

    event.listen(app.store.engine, "before_cursor_execute", lock)
    try:
        report = app.summarise_pending()
        assert report.retry_later and "database is locked" in report.retry_later
        assert report.failed == [] and app.store.count_articles("failed") == 0
        assert _check_invariant(app.store) == (0, 0)  # nothing half-written, nothing marked failed
        report = app.summarise_pending()
        assert report.retry_later is None and _check_invariant(app.store) == (ARTICLES, ARTICLES * len(CHATS))
    finally:
        app.close()


async def test_start_up_queues_the_deliveries_of_a_brief_left_without_them(
        tmp_path: Path, news: NewsSite, engine: Engine) -> None:
    """A brief an older version stored without its deliveries (died between two transactions)."""
    config = service_config(tmp_path, news)
    store = Store.open(config.db_url)
    store.sync_sources(config.source_specs())
    sub = store.telegram_subscriber(CHATS[0])
    store.subscribe(sub.id, "topic", "city")
    late = store.telegram_subscriber(CHATS[1])
    article = store.add_article(ArticleDraft("https://news.example/x", "Harbour plan approved",
                                             "The harbour board approved the plan. " * 10, None, "local-news"),
                                source_name="local-news", fingerprint=[])
    assert article is not None
    store.save_brief(article.id, Brief("Harbour plan approved", ["The board approved it."], [],
                                       engine="extractive", topics=["city"]), "k-old")
    store.subscribe(late.id, "topic", "city")  # subscribed after the brief: not sent yesterday's news
    store.close()
    svc = Service(config, engine=engine)
    async with running(svc):
        found = await eventually(lambda: svc.app.store.deliveries_for(sub.id), what="the healed delivery")
    assert [d.status for d in found] == ["pending"]  # type: ignore[union-attr]
    assert svc.app.store.deliveries_for(late.id) == []


async def test_deliveries_left_sending_by_a_dead_process_go_out_at_the_next_start(
        tmp_path: Path, news: NewsSite, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process SIGKILLed mid-drain leaves its claim 'sending', one part already recorded: the next
    start sends only the rest, at once (not after the ten-minute stale window), never part 1 again."""
    from briefing.store.schema import utcnow
    from tests.support.botapi import TOKEN, BotAPIServer

    monkeypatch.setenv("BRIEFING_TELEGRAM_TOKEN", TOKEN)
    botapi = await BotAPIServer().start()
    config = service_config(tmp_path, news, telegram={"enabled": True, "base_url": botapi.base_url,
                                                      "per_chat_interval_seconds": 0})
    store = Store.open(config.db_url)
    store.sync_sources(config.source_specs())
    sub = store.telegram_subscriber(CHATS[0])
    store.subscribe(sub.id, "topic", "city")
    article = store.add_article(ArticleDraft("https://news.example/long", "Long harbour story",
                                             "The harbour board approved the plan. " * 10, None, "local-news"),
                                source_name="local-news", fingerprint=[])
    assert article is not None
    summary = [f"Paragraph {i}: " + "the harbour board met again and discussed the plan. " * 12 for i in range(12)]
    store.save_brief(article.id, Brief("Long harbour story", summary, [], engine="extractive", topics=["city"]),
                     "k-long", DeliveryMatch(topics=("city",)))
    [claimed] = store.claim_deliveries("telegram", now=utcnow())  # ... and the process dies here,
    store.record_delivery_parts(claimed.id, "1")  # after Telegram accepted part 1
    store.close()
    svc = Service(config, engine=engine)
    try:
        async with running(svc):
            await eventually(lambda: [d.status for d in svc.app.store.deliveries_for(sub.id)] == ["sent"],
                             timeout=15, what="the orphaned delivery sent")
    finally:
        await botapi.stop()
    texts = botapi.texts(CHATS[0])
    assert texts and not any(t.startswith("Long harbour story") for t in texts)  # part 1 not again
    assert "Paragraph 11" in texts[-1]
