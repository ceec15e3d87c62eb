"""Polling many sources at once: concurrent across hosts, one after another on each host.

Feeds on different hosts overlap, so one slow server (or a big feed paced by
``ingest.per_host_delay_seconds``) no longer holds up every other source; sources on
one host stay in one queue, so politeness towards that host is what it was.
At most ``ingest.max_concurrent_polls`` hosts are polled at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar
from urllib.parse import urlsplit

from briefing.config import SourceConfig

R = TypeVar("R")


def host_key(src: SourceConfig) -> str:
    """The host a source is fetched from; local sources (folders, files) share one queue."""
    if src.url and urlsplit(src.url).scheme in ("http", "https"):
        return (urlsplit(src.url).hostname or "").lower()
    return ""


def poll_concurrently(poll: Callable[[SourceConfig], R], sources: Sequence[SourceConfig], workers: int,
                      done: Callable[[R], None] | None = None) -> list[R]:
    """``poll`` every source, hosts in parallel (``workers`` at most); results in ``sources`` order."""
    queues: dict[str, list[int]] = {}
    for i, src in enumerate(sources):
        queues.setdefault(host_key(src), []).append(i)
    results: list[R | None] = [None] * len(sources)

    def run_host(indices: list[int]) -> None:
        for i in indices:
            results[i] = poll(sources[i])
            if done:
                done(results[i])  # type: ignore[arg-type]

    if workers <= 1 or len(queues) <= 1:
        for indices in queues.values():
            run_host(indices)
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(queues)), thread_name_prefix="poll") as pool:
            for future in [pool.submit(run_host, idx) for idx in queues.values()]:
                future.result()  # poll() records its own failures; anything else is a bug to raise
    return [r for r in results if r is not None]
