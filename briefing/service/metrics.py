"""``/healthz`` and ``/metrics`` of the running service, on its one web server.

``/metrics`` is the Prometheus text exposition format, version 0.0.4
(https://prometheus.io/docs/instrumenting/exposition_formats/): counters kept by this process
since it started (polls, articles, briefs, summariser latency) and gauges read from the
database at scrape time (queue depths, deliveries and digests by status), so a restart or a
second instance never shows stale queue numbers. No client library: the format is a few lines.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from briefing.app import App, Totals

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


@dataclass
class Metrics:
    """In-process counters; thread-safe (jobs run in worker threads)."""

    polls: dict[str, int] = field(default_factory=dict)  # ok | error | not_modified
    articles: dict[str, int] = field(default_factory=dict)  # added | duplicate | filtered
    briefs: dict[str, int] = field(default_factory=dict)  # written | reused | failed
    latency_counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    latency_sum: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _inc(self, counter: dict[str, int], key: str, n: int = 1) -> None:
        with self._lock:
            counter[key] = counter.get(key, 0) + n

    def poll(self, report: Any) -> None:
        """Count one source poll (an ingest ``PollReport``)."""
        self._inc(self.polls, "error" if report.error else "not_modified" if report.not_modified else "ok")
        for key, n in (("added", report.added), ("duplicate", report.duplicates),
                       ("filtered", getattr(report, "filtered", 0))):
            if n:
                self._inc(self.articles, key, n)

    def brief(self, outcome: str, n: int = 1) -> None:
        if n:
            self._inc(self.briefs, outcome, n)

    def summarised(self, seconds: float) -> None:
        """One article summarised by the engine in ``seconds`` (reused briefs are not timed)."""
        with self._lock:
            i = next((k for k, le in enumerate(LATENCY_BUCKETS) if seconds <= le), len(LATENCY_BUCKETS))
            self.latency_counts[i] += 1
            self.latency_sum += seconds


def _labels(**labels: str) -> str:
    inner = ",".join(f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
                     for k, v in labels.items())
    return "{" + inner + "}" if inner else ""


def _family(lines: list[str], name: str, kind: str, help_text: str,
            samples: list[tuple[dict[str, str], float]]) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} {kind}")
    for labels, value in samples:
        lines.append(f"{name}{_labels(**labels)} {value:g}")


def render(metrics: Metrics, snap: Totals, *, summariser_queue: int = 0, active: bool = True) -> str:
    lines: list[str] = []
    with metrics._lock:  # noqa: SLF001 - a consistent copy
        polls, articles, briefs = dict(metrics.polls), dict(metrics.articles), dict(metrics.briefs)
        counts, total = list(metrics.latency_counts), metrics.latency_sum
    _family(lines, "briefing_polls_total", "counter", "Source polls by result since start.",
            [({"result": k}, polls.get(k, 0)) for k in ("ok", "not_modified", "error")])
    _family(lines, "briefing_articles_ingested_total", "counter", "Articles read by polls since start, by outcome.",
            [({"result": k}, articles.get(k, 0)) for k in ("added", "duplicate", "filtered")])
    _family(lines, "briefing_briefs_total", "counter", "Briefs by outcome since start.",
            [({"result": k}, briefs.get(k, 0)) for k in ("written", "reused", "failed")])
    lines.append("# HELP briefing_summarise_seconds Time the summariser took per article.")
    lines.append("# TYPE briefing_summarise_seconds histogram")
    running = 0
    for le, n in zip([*map(str, LATENCY_BUCKETS), "+Inf"], counts):
        running += n
        lines.append(f'briefing_summarise_seconds_bucket{{le="{le}"}} {running}')
    lines.append(f"briefing_summarise_seconds_sum {total:g}")
    lines.append(f"briefing_summarise_seconds_count {running}")
    _family(lines, "briefing_articles", "gauge", "Stored articles by status (new = waiting for a brief).",
            [({"status": k}, snap.articles.get(k, 0))
             for k in sorted({"new", "summarised", "failed", "duplicate", "filtered", *snap.articles})])
    _family(lines, "briefing_briefs_stored", "gauge", "Briefs in the database.", [({}, snap.briefs_total)])
    _family(lines, "briefing_deliveries", "gauge", "Telegram deliveries by status (pending = queue depth).",
            [({"status": k}, snap.deliveries.get(k, 0))
             for k in sorted({"pending", "sending", "sent", "failed", *snap.deliveries})])
    _family(lines, "briefing_digests", "gauge", "Digests by status.",
            [({"status": k}, snap.digests.get(k, 0))
             for k in sorted({"pending", "sending", "sent", "failed", "empty", *snap.digests})])
    _family(lines, "briefing_summariser_queue", "gauge", "Jobs waiting in the summariser worker's queue.",
            [({}, summariser_queue)])
    _family(lines, "briefing_active", "gauge", "1 when this instance holds the lease and works, 0 on standby.",
            [({}, 1 if active else 0)])
    return "\n".join(lines) + "\n"


Blocking = Callable[..., Awaitable[Any]]
_OPS_KEY: web.AppKey["OpsState"] = web.AppKey("briefing_ops")


@dataclass
class OpsState:
    app: App
    metrics: Metrics
    blocking: Blocking  # runs a blocking call off the event loop
    active: Callable[[], bool]
    stopping: Callable[[], bool]
    summariser_queue: Callable[[], int] = lambda: 0


async def _healthz(request: web.Request) -> web.Response:
    """200 while the service runs and its database answers; 503 otherwise (stopping, database down)."""
    state = request.app[_OPS_KEY]
    role = "active" if state.active() else "standby"
    if state.stopping():
        return web.json_response({"status": "stopping", "role": role}, status=503)
    try:
        await asyncio.wait_for(state.blocking(state.app.ping), timeout=5)
    except Exception as exc:  # noqa: BLE001 - reported to the prober, not raised
        return web.json_response({"status": "error", "role": role, "error": f"database: {exc}"[:300]},
                                 status=503)
    return web.json_response({"status": "ok", "role": role})


async def _metrics(request: web.Request) -> web.Response:
    state = request.app[_OPS_KEY]
    snap = await state.blocking(state.app.totals)
    body = render(state.metrics, snap, summariser_queue=state.summariser_queue(), active=state.active())
    return web.Response(body=body.encode("utf-8"), headers={"Content-Type": CONTENT_TYPE})


def add_ops_routes(app: web.Application, state: OpsState) -> None:
    """Mount ``GET /healthz`` and ``GET /metrics`` (before the application starts)."""
    app[_OPS_KEY] = state
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/metrics", _metrics)
