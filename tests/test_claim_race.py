"""Two workers claim from one PostgreSQL database at once: every due row is taken exactly once.

Two service instances (or a standby taking over) run the delivery and digest jobs against the
same database; each claim is one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)``.
SQLite takes one writer at a time and ignores the clause, so only PostgreSQL shows whether the
claim holds (issue 11). Each worker is a thread with a ``Store`` of its own (its own engine, pool
and connection, as another process has), and every claim transaction is held open for a moment
after its locking statement, so that the two workers' claims overlap every time: without the row locks,
both would take the same rows and a reader would get the message twice. And because the lock
SKIPs rows another claim holds, one stalled instance never holds up the other.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event

from briefing.deliver.telegram.digest import TelegramDigests
from briefing.digest.job import DigestReport, claim_next, record_due
from briefing.store import Store
from tests.support.briefs import add_brief
from tests.support.config import make_config

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
ROWS = 40
WORKERS = 2
HOLD_SECONDS = 0.05  # each claim keeps its rows (locked, or not) this long before it commits

on_postgresql = pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                        indirect=True)


def _after_each_claim_select(store: Store, table: str, pause: Callable[[], object]) -> None:
    """Call ``pause`` after each row-locking statement on ``table`` (``FOR UPDATE``), inside the
    claim's transaction: before its COMMIT, while it holds whatever rows it locked."""
    @event.listens_for(store.engine, "after_cursor_execute")
    def paused(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]  # noqa: ANN001
        if "FOR UPDATE" in statement.upper() and f"FROM {table}" in statement:
            pause()


def _race(db_url: str, table: str, claim: Callable[[Store], list[int]]) -> list[list[int]]:
    """``claim`` in WORKERS threads at once, each with its own Store, until each finds nothing
    left to take; the ids each worker claimed."""
    stores = [Store.open(db_url) for _ in range(WORKERS)]
    for store in stores:
        _after_each_claim_select(store, table, lambda: time.sleep(HOLD_SECONDS))
    start = threading.Barrier(WORKERS)

    def work(store: Store) -> list[int]:
        start.wait(timeout=30)
        taken: list[int] = []
        while batch := claim(store):
            taken += batch
        return taken

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            return list(pool.map(work, stores))
    finally:
        for store in stores:
            store.close()


def _assert_each_claimed_once(claimed: list[list[int]], expected: set[int]) -> None:
    every = [row_id for taken in claimed for row_id in taken]
    twice = sorted(row_id for row_id, n in Counter(every).items() if n > 1)
    assert not twice, f"{len(twice)} rows claimed by both workers (sent twice): {twice[:10]}"
    assert set(every) == expected, f"rows never claimed (never sent): {sorted(expected - set(every))[:10]}"
    assert all(claimed), f"the workers did not both claim rows ({[len(t) for t in claimed]}): no race was run"


def _queue_deliveries(store: Store, tmp_path: Path) -> set[int]:
    """ROWS pending Telegram deliveries of one brief; their ids."""
    brief_id = add_brief(store, "Harbour plan approved", topics=["harbour"])
    readers = [store.telegram_subscriber(10_000 + n).id for n in range(ROWS)]
    assert store.queue_deliveries(brief_id, [(sid, "telegram") for sid in readers]) == ROWS
    return {d.id for sid in readers for d in store.deliveries_for(sid)}


def _claim_deliveries(store: Store) -> list[int]:
    return [d.id for d in store.claim_deliveries("telegram", limit=3, now=NOW)]


def _record_digests(store: Store, tmp_path: Path) -> set[int]:
    """ROWS due digests (one per reader, in Telegram), recorded as the digest job records them; their ids."""
    config = make_config(tmp_path, email={"send_empty_digest": True})  # a digest even on a quiet day
    for n in range(ROWS):
        reader = store.telegram_subscriber(20_000 + n)
        store.update_subscriber(reader.id, digest_time="08:00", digest_telegram=True)
    report, recorded = DigestReport(), {}  # type: ignore[var-annotated]
    record_due(store, config, NOW, channels=[TelegramDigests(store, send_html=None)],  # type: ignore[arg-type]
               report=report, composed=recorded)
    assert report.recorded == ROWS == len(recorded) and not report.errors
    return set(recorded)


def _claim_digest(store: Store) -> list[int]:
    row = claim_next(store, ("email", "telegram"), NOW, timedelta(minutes=10))
    return [] if row is None else [row.id]


KINDS = {"deliveries": (_queue_deliveries, _claim_deliveries), "digests": (_record_digests, _claim_digest)}


@on_postgresql
@pytest.mark.parametrize("table", list(KINDS))
def test_two_workers_claim_each_due_row_exactly_once(store: Store, db_url: str, tmp_path: Path, table: str) -> None:
    make_rows, claim = KINDS[table]
    expected = make_rows(store, tmp_path)

    claimed = _race(db_url, table, claim)

    _assert_each_claimed_once(claimed, expected)
    assert claim(store) == []  # nothing is left to send, and nothing claimed is claimed again


@on_postgresql
@pytest.mark.parametrize("table", list(KINDS))
def test_a_claim_in_progress_does_not_hold_up_the_other_worker(store: Store, db_url: str, tmp_path: Path,
                                                                table: str) -> None:
    """One instance stalls mid-claim (a slow disk, a paused VM): the other goes on with other rows
    instead of waiting for it (SKIP LOCKED), and the stalled one still gets its own rows."""
    make_rows, claim = KINDS[table]
    expected = make_rows(store, tmp_path)
    slow, fast = Store.open(db_url), Store.open(db_url)
    selected, release = threading.Event(), threading.Event()
    _after_each_claim_select(slow, table, lambda: selected.set() or release.wait(30))

    try:
        with ThreadPoolExecutor(2) as pool:
            stalled = pool.submit(claim, slow)
            assert selected.wait(30), "the first claim never ran"
            other = pool.submit(claim, fast)
            try:
                went_on = other.result(timeout=10)
            except TimeoutError:
                went_on = None
            finally:
                release.set()
            held = stalled.result(timeout=30)
    finally:
        slow.close()
        fast.close()
    assert went_on is not None, "the second worker waited for the stalled claim's rows"
    assert went_on and held and not set(went_on) & set(held) and set(went_on) | set(held) <= expected
