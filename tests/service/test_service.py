"""The running service in-process: polling on schedule, back-off, restarts, no overlapping jobs."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from briefing.config import Config
from briefing.models import Brief
from briefing.service.runner import Service
from briefing.service.scheduler import next_poll_time
from briefing.store import Store
from briefing.store.schema import utcnow
from briefing.summarise import Document, Engine
from tests.service.conftest import NewsSite, running, service_config
from tests.support.wait import eventually


def service(config: Config, engine: Engine) -> Service:
    return Service(config, engine=engine, rng=random.Random(1))


class BatchCounter:
    """The shared engine, counting how many documents each call of the worker brings."""

    def __init__(self, inner: Engine) -> None:
        self.inner, self.batches = inner, []  # type: list[int]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def summarise_many(self, docs: list[Document]) -> list[Brief]:
        self.batches.append(len(docs))
        return self.inner.summarise_many(docs)


def headlines(store: Store) -> list[str]:
    return sorted(b.headline for _, b in store.list_briefs())


async def test_a_new_story_in_the_feed_becomes_a_brief(tmp_path: Path, news: NewsSite, engine: Engine) -> None:
    news.publish("Harbour plan approved", "the harbour")
    config = service_config(tmp_path, news, interval_minutes=0.02)  # a poll every 1.2 s
    async with running(service(config, engine)) as svc:
        store = svc.app.store
        await eventually(lambda: store.count_briefs() == 1, what="the first brief")
        news.publish("Tram line extended", "the tram line")
        await eventually(lambda: store.count_briefs() == 2, what="the second story's brief")
        assert store.count_articles() == 2  # polled several times, stored once each
        jobs = {j.name: j for j in await asyncio.to_thread(store.job_records)}
    assert jobs["poll:local-news"].last_error is None
    assert jobs["poll:local-news"].last_run_at is not None
    assert len(news.hits) >= 2


async def test_the_summarise_job_hands_the_worker_its_articles_as_one_batch(
        tmp_path: Path, news: NewsSite, engine: Engine) -> None:
    """Issue 11: the scheduled job queues a batch of pending articles at once, so the worker
    batches them (summariser.batch_size) instead of getting one document per call."""
    for topic in ("the harbour", "the tram line", "the bridge", "the library"):
        news.publish(f"News of {topic}", topic)
    # Summarised when the poll that stored all four says so (not on a timer in the middle of it).
    config = service_config(tmp_path, news, summariser={"batch_size": 4}, service={"summarise_interval_seconds": 60})
    counting = BatchCounter(engine)
    async with running(service(config, counting)) as svc:  # type: ignore[arg-type]
        await eventually(lambda: svc.app.store.count_briefs() == 4, what="four briefs")
    assert sum(counting.batches) == 4 and max(counting.batches) > 1, counting.batches


async def test_a_failing_source_is_retried_with_back_off_then_recovers(
        tmp_path: Path, news: NewsSite, engine: Engine) -> None:
    news.status = 500
    news.publish("Bridge reopens", "the bridge")
    config = service_config(tmp_path, news, ingest={"retry_base_seconds": 0.4})
    async with running(service(config, engine)) as svc:
        store = svc.app.store
        await eventually(lambda: len(news.hits) >= 3, what="three failed polls")
        src = await asyncio.to_thread(store.get_source, "local-news")
        assert src is not None and src.consecutive_failures >= 2 and "500" in (src.last_error or "")
        gaps = [b - a for a, b in zip(news.hits, news.hits[1:])]
        assert gaps[1] > gaps[0] * 1.5, gaps  # 0.4 s, then 0.8 s: exponential back-off
        news.status = 200
        await eventually(lambda: store.count_briefs() == 1, what="a brief once the feed recovers")
        src = await asyncio.to_thread(store.get_source, "local-news")
    assert src is not None and src.last_error is None and src.consecutive_failures == 0


async def test_a_restart_carries_on_without_polling_early_or_duplicating(
        tmp_path: Path, news: NewsSite, engine: Engine) -> None:
    news.publish("Council budget passes", "the budget")
    config = service_config(tmp_path, news, interval_minutes=60)
    async with running(service(config, engine)) as svc:
        await eventually(lambda: svc.app.store.count_briefs() == 1, what="the brief")
    assert len(news.hits) == 1

    # Restarted within the source's interval: its stored next poll is honoured.
    async with running(service(config, engine)):
        await asyncio.sleep(1.5)
    assert len(news.hits) == 1

    # Restarted after downtime longer than the interval: polled at once, nothing stored twice.
    store = Store.open(config.db_url)
    store.record_poll_success("local-news", etag=None, last_modified=None,
                              next_poll_at=utcnow() - timedelta(hours=2))
    async with running(service(config, engine)) as svc:
        await eventually(lambda: len(news.hits) == 2, what="the overdue poll")
        await asyncio.sleep(0.5)
    assert store.count_articles() == 1 and store.count_briefs() == 1
    store.close()


async def test_a_slow_job_never_runs_twice_at_once(tmp_path: Path, news: NewsSite, engine: Engine) -> None:
    for i in range(4):
        news.publish(f"Story number {i}", f"subject {i}")
    config = service_config(tmp_path, news, service={"summarise_interval_seconds": 0.05,
                                                     "summarise_batch_size": 1})
    svc = service(config, engine)
    summarise, active, most = svc.summarise, 0, 0

    async def slow_summarise() -> str | None:  # the real job, made slower than its interval
        nonlocal active, most
        active += 1
        most = max(most, active)
        try:
            await asyncio.sleep(0.3)
            return await summarise()
        finally:
            active -= 1

    svc.summarise = slow_summarise  # type: ignore[method-assign]
    async with running(svc):
        for _ in range(20):  # due every 50 ms and kicked repeatedly while it runs
            svc.kick("summarise")
            await asyncio.sleep(0.05)
        await eventually(lambda: svc.app.store.count_briefs() == 4, what="all four briefs")
    assert most == 1


def test_next_poll_honours_the_stored_time_and_adds_bounded_jitter() -> None:
    now = datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc)
    later = now + timedelta(minutes=20)
    assert next_poll_time(later, now, 0) == later
    assert next_poll_time(None, now, 0) == now  # never polled: poll now
    assert next_poll_time(now - timedelta(days=1), now, 0) == now  # overdue: now, not in the past
    rng = random.Random(7)
    times = [next_poll_time(later, now, 30, rng) for _ in range(200)]
    assert all(later <= t <= later + timedelta(seconds=30) for t in times)
    assert len({t for t in times}) > 100  # spread, not one fixed offset


async def test_after_a_sleep_missed_runs_coalesce_and_stale_ones_are_skipped(
        tmp_path: Path, news: NewsSite, engine: Engine) -> None:
    """The laptop slept: the scheduler finds a job's time long past (as if the clock jumped)."""
    news.publish("Harbour plan approved", "the harbour")
    config = service_config(tmp_path, news, interval_minutes=60, service={"misfire_grace_seconds": 5})
    svc = service(config, engine)
    summarise, runs = svc.summarise, 0

    async def counted() -> str | None:
        nonlocal runs
        runs += 1
        return await summarise()

    svc.summarise = counted  # type: ignore[method-assign]
    async with running(svc):
        await eventually(lambda: svc.app.store.count_briefs() == 1, what="the first poll's brief")
        polls = len(news.hits)

        def slept(seconds: float) -> None:  # the source and its job both due that long ago
            due = utcnow() - timedelta(seconds=seconds)
            svc.app.store.record_poll_success("local-news", etag=None, last_modified=None, next_poll_at=due)
            svc.scheduler.modify_job("poll:local-news", next_run_time=due)

        slept(30)  # beyond the 5 s grace: skipped, not run late
        await asyncio.sleep(1.0)
        assert len(news.hits) == polls

        slept(3)  # within the grace: it runs
        await eventually(lambda: len(news.hits) == polls + 1, what="the late poll")

        # Eight runs of the 0.5 s summarise job missed in 4 s: one run, not eight.
        svc.scheduler.pause()
        await asyncio.sleep(0.6)  # no run in flight
        before = runs
        svc.scheduler.modify_job("summarise", next_run_time=utcnow() - timedelta(seconds=4))
        svc.scheduler.resume()
        await asyncio.sleep(0.3)
        assert runs - before == 1


async def test_a_source_added_while_running_is_polled_and_one_removed_is_not(
        tmp_path: Path, news: NewsSite, engine: Engine) -> None:
    config = service_config(tmp_path, news, service={"sources_check_seconds": 0.3})
    config = config.model_copy(update={"sources": ()})  # nothing configured: only a run-time source
    async with running(service(config, engine)) as svc:
        store = svc.app.store

        def last_poll() -> datetime | None:
            src = store.get_source("added-in-chat")
            return src.last_polled_at if src else None

        await asyncio.to_thread(store.add_source, "added-in-chat", "adhoc", news.feed_url, ["city"])  # /addsource
        await eventually(last_poll, what="the added source to be polled")
        src = await asyncio.to_thread(store.get_source, "added-in-chat")
        # Polled through the safe fetch, as a URL from a chat must be: loopback is refused.
        assert src is not None and "non-public address" in (src.last_error or "")

        await asyncio.to_thread(store.set_source_active, "added-in-chat", False)  # /removesource
        await eventually(lambda: svc.scheduler.get_job("poll:added-in-chat") is None, what="its job to go")
        await eventually(lambda: "poll:added-in-chat" not in {j.name for j in store.job_records()},
                         what="its job to leave `briefing status`")
        await asyncio.to_thread(store.record_poll_failure, "added-in-chat", "x", backoff_base=0, backoff_max=0)
        due = await asyncio.to_thread(last_poll)
        await asyncio.sleep(0.8)
        assert await asyncio.to_thread(last_poll) == due  # due again, but removed: not polled
