"""An asyncio-facing summariser worker: model work off the event loop, urgent work first.

::

    async with SummariserWorker(engine, queue_size=64, timeout_seconds=120) as worker:
        brief = await worker.summarise(doc)                                # scheduled work
        brief = await worker.summarise(doc, priority=Priority.ON_DEMAND)   # e.g. Telegram /summary

Any :class:`~briefing.summarise.base.Engine` works. One thread runs the engine (models are not
thread-safe and the CPU is shared anyway); jobs wait in a bounded priority queue, so an
on-demand request is the next thing the thread starts, ahead of every scheduled article
queued before it. ``stage="first"`` asks only for the engine's quick brief (an engine with a
gist: the brief without it) and :meth:`SummariserWorker.improve` for the gist of that brief,
so ``/summary`` can answer at once and edit its answer later. An engine whose quick brief runs
no model (``quick_first``: the extractive brief under a gist) has it written on the shared
executor beside the model thread, not queued: behind a gist or a scheduled brief it would wait
their whole length (seconds each) for work of milliseconds. When the queue is full,
``summarise`` waits for room (back-pressure), and on-demand callers get room first. Jobs of the same priority are handed to the engine in
batches of up to ``batch_size`` (``summarise_many``), which is where batching pays off.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import IntEnum

from briefing.blocking import blocking
from briefing.errors import SummariseError
from briefing.models import Brief
from briefing.summarise.base import Document, Engine

log = logging.getLogger(__name__)


class Priority(IntEnum):
    ON_DEMAND = 0  # a person is waiting for this brief
    SCHEDULED = 10  # background work from the scheduler


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    doc: Document = field(compare=False)
    future: asyncio.Future[Brief] = field(compare=False)
    stage: str = field(default="full", compare=False)  # "full", "first" or "improve"
    brief: Brief | None = field(default=None, compare=False)  # the brief to improve


class SummariserWorker:
    def __init__(self, engine: Engine, *, queue_size: int = 64, timeout_seconds: float = 120.0,
                 batch_size: int = 1) -> None:
        self.engine = engine
        self.queue_size = queue_size
        self.timeout_seconds = timeout_seconds
        self.batch_size = max(1, batch_size)
        self._heap: list[_Job] = []
        self._waiting: dict[int, int] = {}  # callers waiting for room, by priority
        self._seq = itertools.count()
        self._changed: asyncio.Condition | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self.done = 0  # briefs written, for status output

    @property
    def pending(self) -> int:
        return len(self._heap)

    async def start(self) -> "SummariserWorker":
        if self._task is None:
            self._changed = asyncio.Condition()
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="summariser")
            self._task = asyncio.create_task(self._run(), name="summariser-worker")
        return self

    async def stop(self) -> None:
        """Stop taking work; queued jobs fail with SummariseError, a running batch finishes."""
        if self._task is None:
            return
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        for job in self._heap:
            if not job.future.done():
                job.future.set_exception(SummariseError("the summariser worker stopped"))
        self._heap.clear()
        if self._executor is not None:
            # Never block the event loop on a running model call: the thread finishes (or dies
            # with the process) on its own; its callers were already failed by _run.
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._task = self._executor = self._changed = None

    async def __aenter__(self) -> "SummariserWorker":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def summarise(self, doc: Document, priority: Priority | int = Priority.SCHEDULED,
                        stage: str = "full") -> Brief:
        """The brief for ``doc``; waits for room in the queue, then for the engine."""
        if stage == "first" and getattr(self.engine, "quick_first", False):
            return await self._beside_model(doc)
        return await self._submit(doc, priority, stage, None)

    async def improve(self, brief: Brief, doc: Document, priority: Priority | int = Priority.ON_DEMAND) -> Brief:
        """``brief`` (from ``stage="first"``) with what the engine's ``improve`` adds (the gist)."""
        return await self._submit(doc, priority, "improve", brief)

    async def _submit(self, doc: Document, priority: Priority | int, stage: str, brief: Brief | None) -> Brief:
        if self._changed is None:
            raise SummariseError("the summariser worker is not running (call start())")
        future: asyncio.Future[Brief] = asyncio.get_running_loop().create_future()
        level = int(priority)
        async with self._changed:
            # Room is given in priority order: a waiting on-demand caller enters first.
            self._waiting[level] = self._waiting.get(level, 0) + 1
            try:
                await self._changed.wait_for(lambda: len(self._heap) < self.queue_size and
                                             not self._higher_waiting(level))
            finally:
                self._waiting[level] -= 1
            heapq.heappush(self._heap, _Job(level, next(self._seq), doc, future, stage, brief))
            self._changed.notify_all()
        return await future

    async def _beside_model(self, doc: Document) -> Brief:
        """The quick brief of a ``quick_first`` engine, in its own thread while the model thread works on."""
        if self._changed is None:
            raise SummariseError("the summariser worker is not running (call start())")
        try:
            brief = await asyncio.wait_for(blocking(self._first(), doc), self.timeout_seconds)
        except asyncio.TimeoutError:
            raise self._too_long() from None
        except SummariseError:
            raise
        except Exception as exc:  # noqa: BLE001 - the caller hears a SummariseError, as from the queue
            log.warning("summariser quick brief failed: %s", exc)
            raise SummariseError(str(exc)) from exc
        self.done += 1
        return brief

    def _first(self) -> Callable[[Document], Brief]:
        return getattr(self.engine, "first", None) or self.engine.summarise

    def _too_long(self) -> SummariseError:
        return SummariseError(f"summarising took longer than {self.timeout_seconds:g}s per article")

    def _higher_waiting(self, level: int) -> bool:
        return any(count > 0 for p, count in self._waiting.items() if p < level)

    def _take(self) -> list[_Job]:
        """The most urgent job and up to ``batch_size - 1`` more of the same priority."""
        first = heapq.heappop(self._heap)
        batch = [first]
        while (self._heap and len(batch) < self.batch_size and self._heap[0].priority == first.priority
               and first.stage == "full" and self._heap[0].stage == "full"):
            batch.append(heapq.heappop(self._heap))
        return [j for j in batch if not j.future.cancelled()]

    async def _run(self) -> None:
        assert self._changed is not None
        loop = asyncio.get_running_loop()
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self._heap))
                batch = self._take()
                self._changed.notify_all()  # room in the queue
            if not batch:
                continue
            call = loop.run_in_executor(self._executor, self._work, batch)
            try:
                briefs = await asyncio.wait_for(call, self.timeout_seconds * len(batch))
            except asyncio.CancelledError:  # stop() during a batch: its callers must not hang
                self._fail(batch, SummariseError("the summariser worker stopped"))
                raise
            except asyncio.TimeoutError:
                self._fail(batch, self._too_long())
                continue
            except Exception as exc:  # noqa: BLE001 - every caller must hear about the failure
                log.warning("summariser batch of %d failed: %s", len(batch), exc)
                self._fail(batch, exc if isinstance(exc, SummariseError) else SummariseError(str(exc)))
                continue
            for job, brief in zip(batch, briefs):
                if not job.future.done():
                    job.future.set_result(brief)
            self.done += len(batch)

    def _work(self, batch: list[_Job]) -> list[Brief]:
        """Runs in the model thread: a batch of full briefs, or one quick brief, or one improvement."""
        job = batch[0]
        if job.stage == "first":
            return [self._first()(job.doc)]
        if job.stage == "improve":
            improve = getattr(self.engine, "improve", None)
            assert job.brief is not None
            return [improve(job.brief, job.doc) if improve else job.brief]
        return self.engine.summarise_many([j.doc for j in batch])

    @staticmethod
    def _fail(batch: list[_Job], exc: BaseException) -> None:
        for job in batch:
            if not job.future.done():
                job.future.set_exception(exc)
