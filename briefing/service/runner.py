"""``briefing run``: one asyncio process that polls, summarises, delivers and sends digests.

The blocking stages (SQLAlchemy, httpx, the model) run in worker threads; the event
loop only schedules, talks to Telegram and serves the unsubscribe endpoint. Every job
is idempotent against the database, so a restart carries on where the last run stopped.
Only the holder of the ``sender`` lease works (see :mod:`briefing.service.lease`): a second
instance started by accident on the same database stands by, polling no feed twice and
sending nothing, and takes over when the holder stops or dies.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aiohttp import web
from apscheduler.triggers.interval import IntervalTrigger

from briefing.blocking import blocking
from briefing.blocking import busy as busy_threads
from briefing.config import Config, SourceConfig, secret
from briefing.deliver.email import UnsubscribeSigner
from briefing.deliver.email.unsubscribe import add_unsubscribe_routes
from briefing.deliver.telegram import TelegramBot
from briefing.errors import BriefingError
from briefing.models import Article, Brief
from briefing.app import App, SummariseReport
from briefing.service.bot_commands import bot_commands
from briefing.service.digests import send_due_digests
from briefing.service.lease import SenderLease
from briefing.service.metrics import Metrics, OpsState, add_ops_routes
from briefing.service.scheduler import (
    build_scheduler,
    next_poll_time,
)
from briefing.service.threads import QueuedEngine, scheduled_brief
from briefing.models import utcnow
from briefing.summarise import Document, Engine, build_engine
from briefing.summarise.worker import Priority, SummariserWorker

log = logging.getLogger(__name__)

T = TypeVar("T")
# Time kept back from service.shutdown_timeout_seconds for the process to exit after stop().
EXIT_MARGIN_SECONDS = 2.0
JobFunc = Callable[[], Awaitable[str | None]]  # returns an error to record, or None


class Service:
    """The running service. ``await run()`` until SIGINT/SIGTERM, or ``start()``/``stop()`` in tests."""

    def __init__(self, config: Config, *, dry_run: bool = False, engine: Engine | None = None,
                 rng: random.Random | None = None) -> None:
        """``engine``: an engine already loaded (tests share one); by default the configured one."""
        self.config = config
        self.cfg = config.service
        self.dry_run = dry_run
        self._engine = engine
        self._queued = QueuedEngine()
        self.app = App(config, engine=self._queued)  # type: ignore[arg-type]  # an Engine by duck typing
        self.metrics = self.app.metrics = Metrics()
        self.worker: SummariserWorker | None = None
        self.lease = SenderLease(self.app.store, self.cfg.lease_seconds)
        self.scheduler = build_scheduler(self.cfg)
        self.rng = rng or random.Random()
        self.started_at = utcnow()
        self.stopping = asyncio.Event()
        self._http: web.AppRunner | None = None  # the web server: /healthz, /metrics, unsubscribe
        self.http_port: int | None = None  # the port it listens on (service.http_port 0: any free one)
        # Built now, before the model loads: a missing token or unsubscribe secret is a
        # start-up error that should not take seconds to report, nor fail each job later.
        try:
            self.signer = UnsubscribeSigner.from_config(config.email) if config.email.enabled else None
            self.bot = self._make_bot()
        except BriefingError:
            self.app.close()
            raise
        self._bot_started = False
        self._on_demand = 0  # /summary requests waiting for the model
        self._scheduled = 0  # articles of the summarise job waiting for the model
        self._bot_lock = asyncio.Lock()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()

    async def blocking(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking library call (database, fetch, model) on the one executor."""
        return await blocking(func, *args, **kwargs)

    # -- life cycle ----------------------------------------------------------

    async def run(self) -> int:
        """Start, serve until SIGINT or SIGTERM, stop cleanly; returns the exit status."""
        loop = asyncio.get_running_loop()
        got_signal = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, got_signal.set)
        # A signal while the model loads stops start-up too, not only a running service.
        starting = asyncio.create_task(self.start())
        signalled = asyncio.create_task(got_signal.wait())
        try:
            await asyncio.wait({starting, signalled}, return_when=asyncio.FIRST_COMPLETED)
            if starting.done():
                starting.result()  # a start-up error ends the run here
                await signalled
            else:
                starting.cancel()
                await asyncio.gather(starting, return_exceptions=True)  # let it unwind first
            log.info("shutting down (at most %.0fs)", self.cfg.shutdown_timeout_seconds)
        finally:
            signalled.cancel()
            await self.stop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        return 0

    async def start(self) -> None:
        await self.blocking(self.app.sync_sources)
        await self._start_http()  # before the model loads: a port in use is reported at once
        await self._start_worker()
        if await self.blocking(self.lease.hold):
            await self._heal()
            n = await self.blocking(self.app.reclaim_orphaned_deliveries, self.started_at)
            if n:
                log.warning("took back %d delivery(ies) left 'sending' by a process that died", n)
            await self._start_bot()
        else:
            log.warning("another instance is running on this database: standing by until it stops")
        await self._add_jobs()
        if self.lease.held:
            await self.blocking(self.app.forget_jobs_except, {job.id for job in self.scheduler.get_jobs()})
        self.scheduler.start()
        log.info("briefing is running: %d job(s)%s", len(self.scheduler.get_jobs()),
                 " (dry run: nothing is sent; digests are not recorded, `briefing digest preview` "
                 "shows them)" if self.dry_run else "")

    async def stop(self) -> None:
        """Stop taking work, let in-flight jobs finish (or cancel them), release what they held.

        Bounded by ``service.shutdown_timeout_seconds``: in-flight jobs get most of it, the
        connections the rest, and a margin is left for the interpreter's own exit (unloading
        torch and spaCy takes about a second).
        """
        if self.stopping.is_set():
            return  # already stopped (or stopping): stop() is idempotent
        timeout = self.cfg.shutdown_timeout_seconds
        budget = timeout - min(EXIT_MARGIN_SECONDS, timeout / 4)
        deadline = asyncio.get_running_loop().time() + budget
        self.stopping.set()
        if self.scheduler.running:
            self.scheduler.pause()  # no new runs; shutdown() would cancel the running ones
        await self._finish_jobs(budget * 0.6)
        await self._step("release claimed deliveries", self._release_claimed(), deadline)
        if self.bot is not None:
            await self._step("stop the Telegram bot", self.bot.stop(), deadline)
        if self._http is not None:
            await self._step("stop the HTTP endpoint", self._http.cleanup(), deadline)
        if self.worker is not None:
            await self._stop_worker(deadline)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.lease.held:
            await self._step("record job state", self.blocking(self.app.clear_next_runs), deadline)
        await self._step("release the lease", self.blocking(self.lease.release), deadline)
        if busy_threads():
            log.warning("abandoning %d blocking call(s) still running; their items stay pending",
                        busy_threads())
        self.app.close()
        log.info("stopped")

    async def _stop_worker(self, deadline: float) -> None:
        # SummariserWorker.stop() waits for a model call in flight without yielding the event
        # loop, which would break the time limit; a busy model is left to the exit instead
        # (_exit_now), and its article stays pending.
        if self._queued.in_flight or self._scheduled or self._on_demand:
            log.warning("not waiting for the summariser: a model call is still running")
            return
        assert self.worker is not None
        await self._step("stop the summariser", self.worker.stop(), deadline)

    async def _finish_jobs(self, timeout: float) -> None:
        tasks = list(self._running.values())
        if not tasks:
            return
        log.info("waiting up to %.0fs for running job(s): %s", timeout, ", ".join(sorted(self._running)))
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("cancelled %d job(s) that did not finish in time", len(pending))
            await asyncio.wait(pending, timeout=1.0)

    async def _step(self, what: str, aw: Awaitable[Any], deadline: float) -> None:
        """One shutdown step, within what is left of the time limit; a failure does not stop the rest."""
        remaining = max(0.1, deadline - asyncio.get_running_loop().time())
        try:
            await asyncio.wait_for(aw, remaining)
        except asyncio.TimeoutError:
            log.warning("shutdown: could not %s in time", what)
        except Exception as exc:  # noqa: BLE001 - shutting down regardless
            log.warning("shutdown: could not %s: %s", what, exc)

    async def _release_claimed(self) -> None:
        if not self.lease.held:
            return
        n = await self.blocking(self.app.release_claimed_deliveries, self.started_at)
        if n:
            log.info("returned %d claimed delivery(ies) to pending", n)

    # -- parts ---------------------------------------------------------------

    async def _start_bot(self) -> None:
        """Start taking Telegram updates: only in the active instance, since Telegram gives one
        bot token's updates to one poller (a second gets 409 Conflict)."""
        async with self._bot_lock:  # several jobs may notice the takeover at once
            if self.bot is not None and not self._bot_started:
                await self.bot.start()
                self._bot_started = True

    def _make_bot(self) -> TelegramBot | None:
        tg = self.config.telegram
        if not tg.enabled:
            return None
        # Without a token and without --dry-run the bot raises a ConfigError naming the variable.
        return TelegramBot(self.app, tg, token=secret(tg.token_env), dry_run=self.dry_run,
                           summarise=self._summarise_now, improve=self._improve_now, extra_commands=bot_commands())

    async def _start_worker(self) -> None:
        """Load the model (a missing model is a start-up error, not a failure per job) and start
        the one thread that runs it."""
        s = self.config.summariser
        engine = self._engine or await self.blocking(build_engine, s)
        self.worker = SummariserWorker(engine, queue_size=s.queue_size, timeout_seconds=s.timeout_seconds,
                                       batch_size=s.batch_size)
        await self.worker.start()
        self._queued.attach(self.worker, asyncio.get_running_loop(), self.stopping)

    async def _summarise_now(self, doc: Document) -> Brief:
        """A brief a person is waiting for (Telegram /summary): ahead of every scheduled article."""
        assert self.worker is not None
        self._on_demand += 1
        try:
            return await self.worker.summarise(doc, Priority.ON_DEMAND, stage="first")
        finally:
            self._on_demand -= 1

    async def _improve_now(self, brief: Brief, doc: Document) -> Brief:
        """The gist for a /summary answer already sent (the bot edits its message with it)."""
        assert self.worker is not None
        return await self.worker.improve(brief, doc, Priority.ON_DEMAND)

    async def _start_http(self) -> None:
        """The one web server: ``/healthz`` and ``/metrics`` (``service.http_enabled``), and with
        email the one-click unsubscribe endpoint of digests (RFC 8058)."""
        if not self.cfg.http_enabled and self.signer is None:
            return
        listen, port = self.config.http_address
        web_app = web.Application(client_max_size=64 * 1024)
        if self.signer is not None:
            add_unsubscribe_routes(web_app, self.app.store, self.signer)
        if self.cfg.http_enabled:
            add_ops_routes(web_app, OpsState(
                app=self.app, metrics=self.metrics, blocking=self.blocking,
                active=lambda: self.lease.held, stopping=self.stopping.is_set,
                summariser_queue=lambda: self.worker.pending if self.worker is not None else 0))
        runner = web.AppRunner(web_app)
        await runner.setup()
        what = "the unsubscribe endpoint" if self.signer is not None else "/healthz and /metrics"
        try:
            site = web.TCPSite(runner, listen, port)
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise BriefingError(f"cannot serve {what} on {listen}:{port}: {exc.strerror or exc}") from None
        self._http = runner
        sockets = getattr(site._server, "sockets", None) or []  # noqa: SLF001 - the port actually bound
        self.http_port = sockets[0].getsockname()[1] if sockets else port
        log.info("web server on http://%s:%d/ (%s)", listen, self.http_port,
                 ", ".join(p for p, on in (("/healthz", self.cfg.http_enabled), ("/metrics", self.cfg.http_enabled),
                                           ("unsubscribe endpoint /unsubscribe", self.signer is not None)) if on))

    # -- jobs ----------------------------------------------------------------

    async def _add_jobs(self) -> None:
        now = utcnow()
        await self.sync_sources()
        self._add("sources", self.sync_sources, IntervalTrigger(seconds=self.cfg.sources_check_seconds),
                  now + timedelta(seconds=self.cfg.sources_check_seconds))
        self._add("summarise", self.summarise, IntervalTrigger(seconds=self.cfg.summarise_interval_seconds), now)
        if self.bot is not None:
            self._add("deliver", self.deliver, IntervalTrigger(seconds=self.cfg.deliver_interval_seconds), now)
        if self.bot is not None and self.config.stories.enabled and any(
                c.name == "follow" for c in self.bot.commands):
            # First run one interval after start: loading spaCy and MiniLM never competes with
            # start-up or a quick shutdown; a press on "Follow this story" clusters on demand.
            every = self.config.stories.update_interval_seconds
            self._add("stories", self.story_updates, IntervalTrigger(seconds=every),
                      now + timedelta(seconds=every))
        if self._sends_digests():
            self._add("digests", self.send_digests, IntervalTrigger(seconds=self.cfg.digest_check_seconds), now)
        # Renewed well inside its lifetime, so the holder never lapses between jobs; a standby
        # instance takes over within a third of the lease after the holder's lease ends.
        self._add("lease", self.keep_lease, IntervalTrigger(seconds=self.cfg.lease_seconds / 3), now,
                  gated=False)

    def _add(self, name: str, func: JobFunc, trigger: IntervalTrigger, first: datetime, *,
             gated: bool = True) -> None:
        self.scheduler.add_job(self._wrap(name, func, gated), trigger, id=name, name=name, next_run_time=first)

    def _wrap(self, name: str, func: JobFunc, gated: bool) -> Callable[[], Awaitable[None]]:
        """Run a job: skip while stopping or standing by, catch and record its error, note its state."""

        async def job() -> None:
            if self.stopping.is_set():
                return
            task = asyncio.current_task()
            assert task is not None
            self._running[name] = task  # from here on, stop() waits for this run
            started, error = utcnow(), None
            try:
                if gated and not await self.active():
                    return
                error = await func()
            except asyncio.CancelledError:
                # Only shutdown cancels jobs; what the job held is released by stop().
                log.info("job %s interrupted by shutdown", name)
                return
            except Exception as exc:  # noqa: BLE001 - one failing job must not stop the service
                error = f"{type(exc).__name__}: {exc}"
                log.error("job %s failed: %s", name, error, exc_info=not isinstance(exc, BriefingError))
            finally:
                self._running.pop(name, None)
            if self.lease.held:  # a standby's jobs did nothing worth recording
                await self._record(name, started, error)
            if name in self._again:
                self._again.discard(name)
                self.kick(name)

        return job

    async def _record(self, name: str, started: datetime, error: str | None) -> None:
        job = self.scheduler.get_job(name)
        try:
            await self.blocking(self.app.record_job_run, name, ran_at=started,
                                next_run_at=job.next_run_time if job else None, error=error)
        except Exception as exc:  # noqa: BLE001 - the database may be briefly unavailable
            log.warning("could not record the state of job %s: %s", name, exc)

    def kick(self, name: str) -> None:
        """Run a job now (new articles -> summarise, new briefs -> deliver); if it is running,
        run it again as soon as it finishes."""
        if self.stopping.is_set() or self.scheduler.get_job(name) is None:
            return
        if name in self._running:
            self._again.add(name)
            return
        self.scheduler.modify_job(name, next_run_time=utcnow())

    async def sync_sources(self) -> str | None:
        """One poll job per enabled source: the configured ones and those added at run time
        (``/addsource``); a source removed or disabled loses its job."""
        wanted = {src.name: src for src in await self.blocking(self.app.ingester.sources)}
        jobs = {job.id.removeprefix("poll:") for job in self.scheduler.get_jobs() if job.id.startswith("poll:")}
        for name in jobs - wanted.keys():
            self.scheduler.remove_job(f"poll:{name}")
            log.info("source %s is no longer polled", name)
        if jobs - wanted.keys() and self.lease.held:
            await self.blocking(self.app.forget_jobs_except, {job.id for job in self.scheduler.get_jobs()})
        new = [wanted[name] for name in wanted.keys() - jobs]
        if new:
            rows = {r.name: r for r in await self.blocking(self.app.sources)}
            for src in new:
                self._add_poll_job(src, rows[src.name].next_poll_at if src.name in rows else None)
        return None

    def _add_poll_job(self, src: SourceConfig, next_poll_at: datetime | None) -> None:
        jitter = self.cfg.jitter_seconds
        first = next_poll_time(next_poll_at, utcnow(), jitter, self.rng)
        # The interval trigger is only the fallback: each poll reschedules its job from the
        # source's stored next_poll_at, which carries the back-off after failures.
        self._add(f"poll:{src.name}", functools.partial(self.poll_source, src),
                  IntervalTrigger(minutes=src.interval_minutes, jitter=jitter or None), first)

    async def poll_source(self, src: SourceConfig) -> str | None:
        job_id = f"poll:{src.name}"
        row = await self.blocking(self.app.source, src.name)
        if row is not None and row.next_poll_at is not None and row.next_poll_at > utcnow() + timedelta(seconds=1):
            self._reschedule(job_id, row.next_poll_at)  # polled meanwhile, e.g. by `briefing ingest`
            return None
        report = await self.blocking(self.app.ingester.poll, src)
        self.metrics.poll(report)
        if report.added:
            log.info("source %s: %d new article(s)", src.name, report.added)
            self.kick("summarise")
        row = await self.blocking(self.app.source, src.name)
        self._reschedule(job_id, row.next_poll_at if row else None)
        return report.error

    def _reschedule(self, job_id: str, next_poll_at: datetime | None) -> None:
        if self.stopping.is_set() or self.scheduler.get_job(job_id) is None:
            return
        when = next_poll_time(next_poll_at, utcnow(), self.cfg.jitter_seconds, self.rng)
        self.scheduler.modify_job(job_id, next_run_time=when)

    async def summarise(self) -> str | None:
        """Brief pending articles in small batches, so a shutdown waits for one batch at most."""
        batch, done, busy = self.cfg.summarise_batch_size, 0, None
        while not self.stopping.is_set():
            report = await self._summarise_batch(batch)
            self.metrics.brief("written", report.done - report.reused)
            self.metrics.brief("reused", report.reused)
            self.metrics.brief("failed", len(report.failed))
            done += report.done
            busy = report.retry_later  # the database is busy: try again at the next run
            if busy or report.done + len(report.failed) < batch:
                break
        if done:
            log.info("wrote %d brief(s)", done)
            self.kick("deliver")
        return busy

    async def _summarise_batch(self, limit: int) -> SummariseReport:
        """Up to ``limit`` pending articles, all handed to the worker at once: it batches queued
        documents (``summariser.batch_size``), which a caller waiting for each brief in turn
        would never let happen. Stored as each brief is written; a busy store stops the rest."""
        report = SummariseReport()
        articles = await self.blocking(self.app.pending_articles, limit)
        prepared = await asyncio.gather(*(self.blocking(self.app.prepare_article, a) for a in articles),
                                        return_exceptions=True)
        # Every document is queued before the worker wakes, so it takes them as one batch.
        outcomes = await asyncio.gather(*(self._brief_article(a, p) for a, p in zip(articles, prepared)),
                                        return_exceptions=True)
        for article, outcome in zip(articles, outcomes):
            if isinstance(outcome, BriefingError):
                if report.retry_later is None:  # after a busy store, the rest just stay pending
                    await self.blocking(self.app.settle_failure, report, article, outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                report.add(outcome[0], outcome[2])
        return report

    async def _brief_article(self, article: Article, prepared: tuple[Document, str, Brief | None] | BaseException,
                             ) -> tuple[int, Brief, bool]:
        if isinstance(prepared, BaseException):
            raise prepared
        doc, key, brief = prepared
        reused = brief is not None
        if brief is None:
            assert self.worker is not None
            started = time.perf_counter()
            self._scheduled += 1
            try:
                brief = await scheduled_brief(self.worker, doc, self.stopping)
            finally:
                self._scheduled -= 1
            self.app.timed(time.perf_counter() - started)
        return await self.blocking(self.app.save_article_brief, article, brief, key, reused)

    async def deliver(self) -> str | None:
        """Send pending Telegram deliveries; the bot records each outcome and its retry time."""
        if self.bot is None or not self._bot_started:
            return None
        report = await self.bot.drain_deliveries(limit=self.cfg.deliver_batch_size)
        if report.sent or report.failed or report.retry_later or report.deactivated:
            log.info("Telegram: %d sent, %d to retry, %d failed, %d subscriber(s) deactivated",
                     report.sent, report.retry_later, report.failed, report.deactivated)
        for error in report.errors[:5]:
            log.warning("Telegram: %s", error)
        if report.claimed >= self.cfg.deliver_batch_size:
            self.kick("deliver")  # more are waiting: carry on right after this run
        return _summary(report.errors)

    async def story_updates(self) -> str | None:
        """Issue 12: group new articles into stories, then tell followers what changed.

        A job of its own, on daemon threads: loading the models never delays deliveries or shutdown.
        """
        if self.bot is None or not self._bot_started:
            return None
        from briefing.deliver.telegram.story_commands import send_notices

        sent = await send_notices(self.bot, await self.blocking(self.app.story_notices))
        if sent:
            log.info("Telegram: %d story update(s) sent", sent)
        return None

    def _sends_digests(self) -> bool:
        # A dry run records no digests: a digest marked sent in a dry run would never go out.
        return not self.dry_run and (self.config.email.enabled or self.bot is not None)

    async def send_digests(self) -> str | None:
        """Record and send the digests that are due by each subscriber's local time."""
        send_html = self.bot.send_html if self.bot is not None and self._bot_started else None
        report = await send_due_digests(self.app, send_html=send_html, signer=self.signer)
        for error in report.errors[:5]:
            log.warning("digest: %s", error)
        return _summary(report.errors)

    async def active(self) -> bool:
        """Take or renew the lease: whether this instance may work now."""
        was = self.lease.held
        held = await self.blocking(self.lease.hold)
        if held and not was:
            await self._heal()
            await self._resync_polls()
            await self._try_start_bot()
        return held

    async def _heal(self) -> None:
        """Queue the deliveries of recent briefs that have none (issue 8): left by an older version
        that wrote a brief and its deliveries in two transactions and died in between."""
        try:
            n = await self.blocking(self.app.heal_deliveries,
                                    timedelta(hours=self.config.telegram.retry_max_age_hours))
        except BriefingError as exc:  # a busy database: the next start or takeover tries again
            log.warning("could not check for briefs without deliveries: %s", exc)
            return
        if n:
            log.warning("queued %d delivery(ies) of brief(s) that had none (left by an interrupted run)", n)

    async def keep_lease(self) -> str | None:
        if await self.active() and not self._bot_started:
            await self._try_start_bot()  # it failed at the takeover: try again, every lease renewal
        return None

    async def _try_start_bot(self) -> None:
        """Start the bot after a takeover; a failure is logged and must not stop the other jobs."""
        try:
            await self._start_bot()
        except Exception as exc:  # noqa: BLE001 - Telegram may be unreachable right now
            log.warning("could not start the Telegram bot: %s (trying again in %.0fs)",
                        exc, self.cfg.lease_seconds / 3)

    async def _resync_polls(self) -> None:
        """On taking over from another instance: poll each source when its stored time says."""
        for row in await self.blocking(self.app.sources, active_only=True):
            self._reschedule(f"poll:{row.name}", row.next_poll_at)


def _summary(errors: list[str]) -> str | None:
    """The error a job records: the first one, and how many more there were."""
    if not errors:
        return None
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return errors[0] + more


def run_service(config: Config, *, dry_run: bool = False) -> int:
    """Run the service in this process until SIGINT or SIGTERM; exits the process when done."""
    # APScheduler narrates every job added and every pause at INFO; our jobs log what they did.
    logging.getLogger("apscheduler.scheduler").setLevel(max(logging.WARNING, logging.getLogger().level))
    status = asyncio.run(Service(config, dry_run=dry_run).run())
    _exit_now(status)
    return status  # not reached


def _exit_now(status: int) -> None:
    """Leave at once, so the shutdown bound (``service.shutdown_timeout_seconds``) holds.

    By now everything of ours is closed and every store write was its own transaction. What is
    left is the interpreter's own exit: it joins non-daemon threads (one stuck call, e.g. a model
    call in flight, would hold the process past the bound) and runs the atexit hooks and module
    teardown of torch, spaCy and multiprocessing, measured at 2.5 s on a loaded 2-core machine
    (issue 8, row 8). Work still in flight stays pending and is redone on the next start.
    """
    stuck = [t.name for t in threading.enumerate()
             if t is not threading.main_thread() and t.is_alive() and not t.daemon]
    if stuck:
        log.warning("exiting without waiting for busy thread(s): %s", ", ".join(stuck))
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken pipe: nothing more to say anyway
            pass
    os._exit(status)
