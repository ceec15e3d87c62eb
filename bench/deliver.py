"""Delivery load benchmark: one brief to N Telegram subscribers through the local fake Bot API.

    python bench/deliver.py                        # 10,000 subscribers at the default limit (30/s)
    python bench/deliver.py --subscribers 2000 --rate 30 --rate 1000

For each configured rate it queues one new brief for every subscriber, drains the deliveries
with the real bot (python-telegram-bot, flood limiter, SQLite store) against
``tests/support/botapi.py`` running in its own process, and prints the achieved rate
against the limit, as the server saw it. At 30 msg/s, 10,000 messages take about 5.5 minutes;
``--subscribers`` makes the run shorter.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from briefing.config import parse_config  # noqa: E402
from briefing.deliver.telegram import TelegramBot  # noqa: E402
from briefing.models import Actor, ArticleDraft, Brief  # noqa: E402
from briefing.app import App  # noqa: E402
from briefing.store.schema import Subscriber, Subscription  # noqa: E402
from tests.support.botapi import TOKEN  # noqa: E402


def add_subscribers(app: App, n: int) -> None:
    with app.store.session() as s:
        subs = [Subscriber(telegram_chat_id=10_000_000 + i, display_name=f"reader {i}") for i in range(n)]
        s.add_all(subs)
        s.flush()
        s.add_all([Subscription(subscriber_id=sub.id, kind="topic", value="harbour") for sub in subs])


def queue_brief(app: App, run: int) -> int:
    draft = ArticleDraft(url=f"https://news.example/bench/{run}", title=f"Bench story {run}",
                         text=f"Bench article {run}. " * 20, source_name="bench")
    article = app.store.add_article(draft, source_name="bench", fingerprint=[])
    assert article is not None
    brief = Brief(headline=f"Harbour plan approved ({run})",
                  summary=["The council approved the harbour plan.", "Work starts in spring."],
                  actors=[Actor("Anna Berg", "Mayor", "backs the plan", "Berg said she backs it.")],
                  engine="extractive", topics=["harbour"])
    brief_id = app.store.save_brief(article.id, brief, f"bench-{run}")
    return app.queue_deliveries(brief_id)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - window:  # sends in the half-open second (t - 1, t]
            j += 1
        best = max(best, i - j + 1)
    return best


async def run_once(app: App, base_url: str, rate: float, run: int, n: int) -> dict[str, object]:
    t0 = time.monotonic()
    queued = await asyncio.to_thread(queue_brief, app, run)
    queue_s = time.monotonic() - t0
    config = app.config.telegram.model_copy(update={"messages_per_second": rate})
    bot = TelegramBot(app, config, token=TOKEN, extra_commands=[])
    await bot.start()
    calls_url = base_url.removesuffix("/bot") + "/_calls"
    start = len(httpx.get(calls_url).json()["calls"])
    try:
        report = await bot.drain_deliveries(limit=n)
    finally:
        await bot.stop()
    calls = [c for c in httpx.get(calls_url, params={"since": start}).json()["calls"]
             if c["method"] == "sendMessage" and c["status"] == 200]
    sends = sorted(c["at"] for c in calls)
    span = sends[-1] - sends[0] if len(sends) > 1 else 0.0
    chats = [c["chat_id"] for c in calls]
    return {"limit": rate, "queued": queued, "queue_s": queue_s, "sent": report.sent, "seconds": report.seconds,
            "achieved": (len(sends) - 1) / span if span else 0.0, "peak": max_in_window(sends),
            "dupes": len(chats) - len(set(chats)), "failed": report.failed}


async def bench(base_url: str, n: int, rates: list[float]) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config({"data_dir": tmp, "telegram": {"base_url": base_url},
                               "sources": [{"name": "bench", "kind": "feed", "url": "https://news.example/feed",
                                            "topics": ["harbour"]}]}, base_dir=tmp)
        app = App(config)
        try:
            app.store.sync_sources(config.source_specs())
            add_subscribers(app, n)
            return [await run_once(app, base_url, rate, i, n) for i, rate in enumerate(rates)]
        finally:
            app.close()


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, action="append", help="messages/s limit (repeatable; default 30)")
    args = parser.parse_args(argv)
    rates = args.rate or [30.0]
    logging.basicConfig(level=logging.WARNING)
    server = subprocess.Popen([sys.executable, "-m", "tests.support.botapi"], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base_url = f"http://127.0.0.1:{server.stdout.readline().split()[1]}/bot"
        rows = await bench(base_url, args.subscribers, rates)
    finally:
        server.terminate()
        server.wait(10)
    print(f"\nOne brief to {args.subscribers:,} subscribers (SQLite, fake Bot API on 127.0.0.1)\n")
    print("| limit msg/s | queued | queue s | sent | failed | duplicates | drain s | achieved msg/s "
          "| peak in any 1 s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['limit']:g} | {r['queued']:,} | {r['queue_s']:.1f} | {r['sent']:,} | {r['failed']} | {r['dupes']} "
              f"| {r['seconds']:.1f} | {r['achieved']:.1f} | {r['peak']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
