"""The store on SQLite and (when configured) PostgreSQL: schema, migrations, guarantees."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, text


from briefing.errors import Action, StoreBusy, classify
from briefing.models import Actor, ArticleDraft, Brief, DeliveryMatch, SourceSpec
from briefing.store import Store
from briefing.store.db import _alembic_config, current_revision, head_revision, make_engine, upgrade
from briefing.store.schema import Base

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def add_article(store: Store, n: int, source: str | None = None) -> int:
    draft = ArticleDraft(f"https://news.test/{n}", f"Title {n}", f"Text of article {n}. " * 20, NOW, source)
    row = store.add_article(draft, source_name=source, fingerprint=[n] * 4)
    assert row is not None
    return row.id


def brief(headline: str = "Headline", topics: list[str] | None = None) -> Brief:
    return Brief(headline, ["One.", "Two."], [Actor("Ann Lee", "mayor", "says yes", "Ann Lee said yes.")],
                 engine="extractive", model="m", topics=topics or [])


def test_schema_is_at_head_and_matches_the_models(db_url: str) -> None:
    store = Store.open(db_url)
    assert current_revision(store.engine) == head_revision()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    store.close()


def test_existing_database_upgrades_in_place(db_url: str) -> None:
    engine = make_engine(db_url)
    cfg = _alembic_config()
    with engine.begin() as conn:  # a database created by the first release
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO sources (name, kind, location, topics, active, failure_count, "
                          "consecutive_failures, created_at) VALUES ('old', 'feed', 'http://x.test/', '[]', "
                          "true, 3, 0, '2026-01-01 00:00:00')"))
    assert "digests" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "digests" in inspect(engine).get_table_names()
    store = Store(engine)
    assert store.get_source("old").failure_count == 3  # data kept
    store.close()


def test_sqlite_uses_wal(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_articles_are_unique_by_url_and_text(store: Store) -> None:
    add_article(store, 1)
    same_url = ArticleDraft("https://news.test/1", "Other", "Different text entirely. " * 20)
    same_text = ArticleDraft("https://news.test/other", "Other", "Text of article 1. " * 20)
    assert store.add_article(same_url, source_name=None, fingerprint=[]) is None
    assert store.add_article(same_text, source_name=None, fingerprint=[]) is None
    assert store.count_articles() == 1


def test_brief_round_trip_and_filters(store: Store) -> None:
    store.sync_sources([SourceSpec(name="wire", kind="feed", location="http://x.test/f", topics=("world",))])
    a1, a2 = add_article(store, 1, "wire"), add_article(store, 2, "wire")
    b1 = store.save_brief(a1, brief("First", ["world"]), "k1")
    store.save_brief(a2, brief("Second", ["economy"]), "k2")
    assert store.pending_articles() == []
    got = store.get_brief(b1)
    assert got.headline == "First" and got.actors[0] == Actor("Ann Lee", "mayor", "says yes", "Ann Lee said yes.")
    assert got.source == "wire" and got.url == "https://news.test/1" and got.published == NOW
    assert [b.headline for _, b in store.list_briefs(topic="World")] == ["First"]
    assert [b.headline for _, b in store.list_briefs()] == ["Second", "First"]
    assert store.list_briefs(since=datetime.now(timezone.utc) + timedelta(hours=1)) == []
    assert store.brief_by_cache_key("k2").headline == "Second"
    # Re-summarising replaces the brief instead of adding a second one.
    store.save_brief(a1, brief("First, revised", ["world"]), "k3")
    assert store.count_briefs() == 2


def test_source_failures_back_off_and_reset(store: Store) -> None:
    store.sync_sources([SourceSpec(name="s", kind="feed", location="http://x.test/f")])
    t1 = store.record_poll_failure("s", "HTTP 503", backoff_base=10, backoff_max=25)
    t2 = store.record_poll_failure("s", "HTTP 503", backoff_base=10, backoff_max=25)
    t3 = store.record_poll_failure("s", "HTTP 503", backoff_base=10, backoff_max=25)
    row = store.get_source("s")
    assert row.consecutive_failures == 3 and row.failure_count == 3
    assert (t3 - row.last_polled_at).total_seconds() == pytest.approx(25, abs=1)  # capped
    assert t1 < t2
    store.record_poll_success("s", etag='"e"', last_modified=None, next_poll_at=NOW)
    row = store.get_source("s")
    assert (row.consecutive_failures, row.last_error, row.etag) == (0, None, '"e"')


def test_removed_sources_become_inactive(store: Store) -> None:
    store.sync_sources([SourceSpec(name="a", kind="page", location="http://x.test/a"),
                        SourceSpec(name="b", kind="page", location="http://x.test/b")])
    store.sync_sources([SourceSpec(name="a", kind="page", location="http://x.test/a")])
    assert {s.name: s.active for s in store.list_sources()} == {"a": True, "b": False}


def test_deliveries_are_never_queued_twice(store: Store) -> None:
    sub = store.telegram_subscriber(1001, display_name="Ann")
    b = store.save_brief(add_article(store, 1), brief(), "k")
    assert store.queue_deliveries(b, [(sub.id, "telegram"), (sub.id, "email")]) == 2
    assert store.queue_deliveries(b, [(sub.id, "telegram")]) == 0  # a restart re-matches: nothing new
    claimed = store.claim_deliveries("telegram")
    assert len(claimed) == 1 and store.claim_deliveries("telegram") == []  # claimed once
    store.mark_delivery_retry(claimed[0].id, "429", NOW)
    assert [d.id for d in store.claim_deliveries("telegram", now=NOW + timedelta(seconds=1))] == [claimed[0].id]
    store.mark_delivery_sent(claimed[0].id, "msg-1")
    assert store.delivery_counts() == {"sent": 1, "pending": 1}


def test_stale_claims_are_reclaimed_after_a_crash(store: Store) -> None:
    sub = store.telegram_subscriber(7)
    b = store.save_brief(add_article(store, 1), brief(), "k")
    store.queue_deliveries(b, [(sub.id, "telegram")])
    store.claim_deliveries("telegram", now=NOW)  # the process dies here
    assert store.claim_deliveries("telegram", now=NOW + timedelta(minutes=1)) == []
    assert len(store.claim_deliveries("telegram", now=NOW + timedelta(minutes=11))) == 1


def test_subscriptions_and_personal_data_deletion(store: Store) -> None:
    sub = store.telegram_subscriber(42, user_id=7, display_name="Bo")
    assert store.subscribe(sub.id, "topic", " World ") is True
    assert store.subscribe(sub.id, "topic", "world") is False
    assert store.subscribe(sub.id, "keyword", "Putin") is True
    with pytest.raises(ValueError, match="subscription kind"):
        store.subscribe(sub.id, "colour", "red")
    assert [(s.kind, s.value) for s in store.subscriptions(sub.id)] == [("keyword", "putin"), ("topic", "world")]
    assert store.unsubscribe(sub.id, None, "PUTIN") == 1
    b = store.save_brief(add_article(store, 1), brief(), "k")
    store.queue_deliveries(b, [(sub.id, "telegram")])
    store.deactivate_subscriber(sub.id, "blocked the bot")
    assert store.delivery_counts() == {"failed": 1}
    assert store.active_subscribers() == []
    store.delete_subscriber(sub.id)
    assert store.subscriber_by_chat(42) is None and store.subscriptions(sub.id) == []
    assert store.delivery_counts() == {}


def test_list_briefs_filters_orders_and_limits_in_the_database(store: Store) -> None:
    topics = [["World", "economy"], ["sport"], ["worldwide"], ["world"], ["economy", "WORLD"]]
    for n, t in enumerate(topics, start=1):
        store.save_brief(add_article(store, n), brief(f"B{n}", t), f"k{n}")
    assert [b.headline for _, b in store.list_briefs(topic="world")] == ["B5", "B4", "B1"]  # not "worldwide"
    assert [b.headline for _, b in store.list_briefs(topic="World", limit=2)] == ["B5", "B4"]
    assert [b.headline for _, b in store.list_briefs(topic="world", newest_first=False, limit=1)] == ["B1"]
    assert [b.headline for _, b in store.list_briefs(limit=2)] == ["B5", "B4"]
    assert store.list_briefs(topic="weather") == []


def test_a_brief_is_queued_to_matching_chats_in_one_statement(store: Store) -> None:
    def chat(n: int, kind: str, value: str) -> int:
        sub = store.telegram_subscriber(1000 + n)
        store.subscribe(sub.id, kind, value)
        return sub.id

    by_topic, by_source, by_keyword = chat(1, "topic", "World"), chat(2, "source", "Wire"), chat(3, "keyword", "putin")
    chat(4, "topic", "sport")  # follows something else
    gone = chat(5, "topic", "world")
    store.deactivate_subscriber(gone, "blocked the bot")
    with store.session() as s:  # an email-only reader: digests, not pushes
        from briefing.store.schema import Subscriber
        mail = Subscriber(email="r@example.org", email_verified=True)
        s.add(mail)
        s.flush()
        mail_id = mail.id
    store.subscribe(mail_id, "topic", "world")
    both = chat(6, "topic", "world")
    store.subscribe(both, "keyword", "putin")  # matches twice, queued once
    b = store.save_brief(add_article(store, 1), brief("B", ["World"]), "k")
    match = DeliveryMatch(topics=("world",), source="wire", keywords=("putin",))
    assert store.queue_matching_deliveries(b, match) == 4
    assert store.queue_matching_deliveries(b, match) == 0
    with store.session() as s:
        from sqlalchemy import select

        from briefing.store.schema import Delivery
        rows = list(s.execute(select(Delivery.subscriber_id, Delivery.status, Delivery.channel)))
    assert sorted(r[0] for r in rows) == sorted([by_topic, by_source, by_keyword, both])
    assert {(r[1], r[2]) for r in rows} == {("pending", "telegram")}
    assert store.subscription_values("keyword") == ["putin"]
def test_matching_a_brief_searches_the_subscription_index_instead_of_scanning(sqlite_store: Store) -> None:
    """Issue 13: ``subscriptions(kind, value)`` is indexed, so queueing a brief that nobody (or few)
    follow does not read every subscription; checked on SQLite's plan for the real statement."""
    from sqlalchemy import event

    for n in range(50):
        sqlite_store.subscribe(sqlite_store.telegram_subscriber(2000 + n).id, "topic", "sport")
    b = sqlite_store.save_brief(add_article(sqlite_store, 1), brief("B", ["World"]), "k")
    seen: list[tuple[str, object]] = []
    listener = lambda conn, cursor, statement, params, *a: seen.append((statement, params))  # noqa: E731
    event.listen(sqlite_store.engine, "before_cursor_execute", listener)
    try:
        assert sqlite_store.queue_matching_deliveries(b, DeliveryMatch(topics=("world",), source="wire")) == 0
    finally:
        event.remove(sqlite_store.engine, "before_cursor_execute", listener)
    statement, params = next((st, p) for st, p in seen if st.startswith("INSERT INTO deliveries"))
    with sqlite_store.engine.connect() as conn:
        plan = " | ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))
    assert "ix_subscriptions_kind_value" in plan and "SCAN subscriptions" not in plan, plan


def test_concurrent_first_contact_from_one_chat_creates_one_subscriber(store: Store) -> None:
    """Issue 8 row 7: /start and /subscribe from a new chat handled at once, in threads (the bot
    runs updates concurrently and the store calls in a thread pool)."""
    from concurrent.futures import ThreadPoolExecutor

    chats = [5000 + i for i in range(40)]
    with ThreadPoolExecutor(16) as pool:
        rows = list(pool.map(lambda chat: store.telegram_subscriber(chat, display_name="Ann"), chats * 2))
    assert len({(r.telegram_chat_id, r.id) for r in rows}) == 40  # one row per chat, both callers see it
    with ThreadPoolExecutor(16) as pool:
        added = list(pool.map(lambda r: store.subscribe(r.id, "topic", "harbour"), rows))
    assert added.count(True) == 40
    assert len(store.all_subscriptions()) == 40


def test_pending_articles_take_turns_between_sources(store: Store) -> None:
    """Issue 8: one flooded source must not delay every other source's briefs (round-robin)."""
    store.sync_sources([SourceSpec(name="flood", kind="page", location="http://x.test/f"),
                        SourceSpec(name="quiet", kind="page", location="http://x.test/q")])
    flood = [add_article(store, n, "flood") for n in range(1, 21)]
    quiet = [add_article(store, n, "quiet") for n in range(21, 23)]
    first = [a.id for a in store.pending_articles(4)]
    assert first == [flood[0], quiet[0], flood[1], quiet[1]]


def test_a_locked_database_is_busy_and_retried_not_failed(tmp_path: Path) -> None:
    """Issue 11: "database is locked" leaves the store as StoreBusy, which classify() reads as
    retry later (a digest or a brief waiting on it is retried, not failed); nothing is written."""
    path = tmp_path / "locked.db"
    store = Store.open(f"sqlite:///{path}")
    store.engine.dispose()
    # After the store's own pragmas (busy_timeout 10 s): wait 0.1 s for the lock instead.
    event.listen(store.engine, "connect", lambda conn, _record: conn.execute("PRAGMA busy_timeout=100"))
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        locker.execute("BEGIN EXCLUSIVE")  # another process writing
        with pytest.raises(StoreBusy) as raised:
            store.add_source("wire", "feed", "http://x.test/f")
        assert classify(raised.value) is Action.RETRY_LATER and "locked" in str(raised.value)
        locker.execute("ROLLBACK")
        assert store.get_source("wire") is None  # rolled back: nothing half-written
        assert store.add_source("wire", "feed", "http://x.test/f").name == "wire"  # and later it works
    finally:
        locker.close()
        store.close()


def test_two_senders_racing_never_claim_one_delivery_twice(db_url: str) -> None:
    """The claim (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL) from two connections at once:
    every delivery is claimed exactly once."""
    stores = [Store.open(db_url), Store.open(db_url)]
    try:
        first = stores[0]
        subs = [first.telegram_subscriber(5000 + i) for i in range(40)]
        for n in range(1, 6):
            first.queue_deliveries(first.save_brief(add_article(first, n), brief(), f"k{n}"),
                                   [(s.id, "telegram") for s in subs])
        claimed: list[list[int]] = [[], []]

        def claim(i: int) -> None:
            while batch := stores[i].claim_deliveries("telegram", limit=7):
                claimed[i] += [d.id for d in batch]

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(claim, [0, 1]))
        everything = claimed[0] + claimed[1]
        assert len(everything) == len(set(everything)) == 200
        assert first.delivery_counts() == {"sending": 200}
    finally:
        for s in stores:
            s.close()
