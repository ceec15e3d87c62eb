"""The one executor for blocking work (database, fetch, model, SMTP rendering) called from the
event loop, shared by the service's jobs, the bot, the Telegram sender and the digest job.

Why one, and why daemon threads: ``asyncio.to_thread`` uses pool threads that the interpreter
joins at exit, so one wedged fetch or model call would hold the process past
``service.shutdown_timeout_seconds``. With every blocking call here, the shutdown bound holds:
what is still running at exit is abandoned, and counted (:func:`busy`) so the service can say so.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

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


# One per process: everything that runs blocking work goes through it (docs/architecture.md).
EXECUTOR = DaemonThreads()


async def blocking(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a blocking call off the event loop, on :data:`EXECUTOR`."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(EXECUTOR, functools.partial(func, *args, **kwargs))


def busy() -> int:
    """Blocking calls running now."""
    return EXECUTOR.busy
