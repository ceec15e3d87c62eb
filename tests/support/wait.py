"""``eventually``: the one way tests wait for something that happens in the background."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def eventually(predicate: Callable[[], object], timeout: float = 10.0, *, what: str = "condition",
                     interval: float = 0.05) -> object:
    """Poll ``predicate`` until it returns something truthy, and return that.

    ``predicate`` runs in a worker thread (blocking calls allowed) so the event loop, and a
    service running on it, keeps going; an exception it raises ends the wait at once. After
    ``timeout`` seconds: AssertionError naming ``what``. Code without an event loop calls it
    through ``asyncio.run``.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(predicate)
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
