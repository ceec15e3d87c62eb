"""Running blocking work from the service's event loop: abandonable threads, the queued engine."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from briefing.errors import SummariseError
from briefing.models import Brief
from briefing.summarise import Document, Engine
from briefing.summarise.worker import Priority, SummariserWorker

T = TypeVar("T")


class DaemonThreads(concurrent.futures.Executor):
    """Runs each blocking call in its own daemon thread.

    ``asyncio.to_thread`` uses pool threads that the interpreter joins at exit, so one
    wedged fetch or model call would hold the process past ``shutdown_timeout_seconds``.
    Daemon threads are abandoned at exit instead; every store write is one transaction,
    so an abandoned call loses at most the item it was working on, which stays pending.
    """

    def __init__(self) -> None:
        self._busy = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            with self._lock:
                self._busy += 1
            try:
                result, error = fn(*args, **kwargs), None
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                result, error = None, exc
            with self._lock:
                self._busy -= 1  # before the waiter wakes, so ``busy`` is exact when it resumes
            if error is None:
                future.set_result(result)  # type: ignore[arg-type]
            else:
                future.set_exception(error)

        threading.Thread(target=work, name="briefing-blocking", daemon=True).start()
        return future

    @property
    def busy(self) -> int:
        return self._busy


class ShuttingDown(RuntimeError):
    """Summarising was cut short by shutdown. Not a BriefingError on purpose: the article must
    stay pending (App marks articles failed only on BriefingError) and is briefed next start."""


class QueuedEngine:
    """The engine as :class:`App` sees it: every call is queued on the summariser worker.

    ``App.summarise_pending`` runs in a blocking thread and calls ``engine.summarise``; this
    hands the document to the worker on the event loop at scheduled priority (so a person's
    ``/summary`` goes first) and waits for the brief. The model only ever runs in the worker's
    one thread, never in two at once.
    """

    def __init__(self) -> None:
        self._worker: SummariserWorker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self.in_flight = 0  # calls waiting for the model (only the one summarise job thread changes it)

    def attach(self, worker: SummariserWorker, loop: asyncio.AbstractEventLoop, stopping: asyncio.Event) -> None:
        self._worker, self._loop, self._stopping = worker, loop, stopping

    @property
    def _engine(self) -> Engine:
        assert self._worker is not None, "the service has not started"
        return self._worker.engine

    @property
    def name(self) -> str:
        return self._engine.name

    @property
    def model(self) -> str | None:
        return self._engine.model

    @property
    def version(self) -> str:
        return self._engine.version

    def summarise(self, doc: Document) -> Brief:
        assert self._worker is not None and self._loop is not None and self._stopping is not None
        future = asyncio.run_coroutine_threadsafe(self._worker.summarise(doc, Priority.SCHEDULED), self._loop)
        self.in_flight += 1
        try:
            return future.result()
        except SummariseError:
            if self._stopping.is_set():  # the worker stopped under us: not the article's fault
                raise ShuttingDown("summarising interrupted by shutdown") from None
            raise
        finally:
            self.in_flight -= 1

    def summarise_many(self, docs: list[Document]) -> list[Brief]:
        return [self.summarise(d) for d in docs]
