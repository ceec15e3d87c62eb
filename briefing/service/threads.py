"""The engine as the service's jobs see it: every call queued on the one summariser worker."""

from __future__ import annotations

import asyncio

from briefing.errors import SummariseError
from briefing.models import Brief
from briefing.summarise import Document, Engine
from briefing.summarise.worker import Priority, SummariserWorker


class ShuttingDown(RuntimeError):
    """Summarising was cut short by shutdown. Not a BriefingError on purpose: the article must
    stay pending (App marks articles failed only on BriefingError) and is briefed next start."""


async def scheduled_brief(worker: SummariserWorker, doc: Document, stopping: asyncio.Event) -> Brief:
    """The worker's brief of ``doc`` at scheduled priority (a person's ``/summary`` goes first);
    :class:`ShuttingDown` when the worker stopped under us, which is not the article's fault."""
    try:
        return await worker.summarise(doc, Priority.SCHEDULED)
    except SummariseError:
        if stopping.is_set():
            raise ShuttingDown("summarising interrupted by shutdown") from None
        raise


class QueuedEngine:
    """The engine as :class:`App` sees it: its name and version (for cache keys) are the worker's
    engine's, and a call from a blocking thread is queued on the summariser worker.

    The scheduled summarise job does not come through here: it awaits the worker directly with a
    whole batch (``Service._summarise_batch``), so the worker can batch them. A library call that
    summarises from a blocking thread (``App.summarise_article``) hands its document to the worker
    on the event loop at scheduled priority (so a person's ``/summary`` goes first) and waits for
    the brief. The model only ever runs in the worker's one thread, never in two at once.
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
        future = asyncio.run_coroutine_threadsafe(scheduled_brief(self._worker, doc, self._stopping), self._loop)
        self.in_flight += 1
        try:
            return future.result()
        finally:
            self.in_flight -= 1

    def summarise_many(self, docs: list[Document]) -> list[Brief]:
        return [self.summarise(d) for d in docs]
