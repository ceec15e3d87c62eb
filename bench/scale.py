"""Costs as feeds, articles, briefs and subscribers grow: each at 1x and 10x, before and after.

    python bench/scale.py                      # every measurement at the issue's sizes (minutes)
    python bench/scale.py --only dedup briefs  # some of them
    python bench/scale.py --scale 0.1          # every size divided by 10 (a quick look)

Each row runs the current code and, in the same process on the same data, the previous
implementation (kept below as ``before_*``, taken from the code this replaced), and prints
milliseconds (or seconds) per operation at 1x and 10x the data. Databases are SQLite files in
a temporary directory; feeds are served by real HTTP servers on 127.0.0.x.

- dedup: ms per new article against N originals in the 7-day window (fingerprint + lookup).
- briefs: `briefing briefs --limit 5` (Store.list_briefs(limit=5)) and with --topic, N briefs.
- queue: queueing one brief for N Telegram subscribers who all follow it, and for N who don't.
- polls: one poll cycle of F feeds on H local hosts (`briefing ingest --force`), sequential vs parallel.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, select  # noqa: E402

from briefing.config import parse_config  # noqa: E402
from briefing.ingest import Fetcher, Ingester  # noqa: E402
from briefing.ingest.dedup import NUM_PERM, _MASK, _PERMS, _shingles, fingerprint, similarity  # noqa: E402
from briefing.models import Actor, ArticleDraft, Brief  # noqa: E402
from briefing.service.app import App  # noqa: E402
from briefing.service.matching import matches  # noqa: E402
from briefing.store import Store  # noqa: E402
from briefing.store.schema import Article, BriefRow, Delivery, Source, Subscriber, Subscription, utcnow  # noqa: E402
from briefing.store.store import _brief  # noqa: E402
from tests.builders import Item, article_text, rss  # noqa: E402
from tests.httpserver import LocalHTTPServer, Response  # noqa: E402

WINDOW = timedelta(days=7)


# -- the implementations these replaced (for the "before" column) ---------------------------


def before_fingerprint(text: str) -> list[int]:
    shingles = _shingles(text)
    return [min((a * s + b) % _MASK for s in shingles) for a, b in _PERMS]


def before_near_duplicate(store: Store, fp: list[int], threshold: float = 0.5) -> int | None:
    pool = store.recent_fingerprints(utcnow() - WINDOW)
    best_id, best = None, 0.0
    for article_id, other in pool:
        score = similarity(fp, other)
        if score > best:
            best_id, best = article_id, score
    return best_id if best >= threshold else None


def before_list_briefs(store: Store, topic: str | None = None, limit: int | None = None) -> list[tuple[int, Brief]]:
    with store.session() as s:
        q = (select(BriefRow, Article, Source.name).join(Article, Article.id == BriefRow.article_id)
             .outerjoin(Source, Source.id == Article.source_id)).order_by(BriefRow.id.desc())
        out = [(row.id, _brief(row, art, src)) for row, art, src in s.execute(q)]
    if topic:
        out = [(i, b) for i, b in out if topic.casefold() in (x.casefold() for x in b.topics)]
    return out[:limit] if limit else out


def before_queue(app: App, brief_id: int) -> int:
    brief = app.store.get_brief(brief_id)
    assert brief is not None
    subscriptions = app.store.all_subscriptions()
    matched = [sid for sid, subs in subscriptions.items() if any(matches(brief, sub) for sub in subs)]
    chats = app.store.chat_subscriber_ids(matched)
    return app.store.queue_deliveries(brief_id, [(sid, "telegram") for sid in sorted(chats)])


# -- helpers --------------------------------------------------------------------------------


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def open_store(tmp: Path, name: str) -> Store:
    return Store.open(f"sqlite:///{tmp / name}.db")


def fill_articles(store: Store, n: int, *, briefs: bool = False, rng: random.Random) -> None:
    """n original articles (random MinHash signatures) fetched within the window, optionally briefed."""
    now = utcnow()
    with store.session() as s:
        s.execute(insert(Source), [{"name": "wire", "kind": "feed", "location": "http://x/f", "topics": [],
                                    "active": True, "failure_count": 0, "consecutive_failures": 0,
                                    "created_at": now}])
    for start in range(0, n, 5000):
        rows = [{"id": i + 1, "source_id": 1, "url": f"https://news.test/{i}", "title": f"Story {i}",
                 "text": f"Text {i}", "content_hash": f"{i:064x}", "status": "summarised" if briefs else "new",
                 "fingerprint": [rng.randrange(_MASK) for _ in range(NUM_PERM)], "attempts": 0,
                 "fetched_at": now - timedelta(seconds=i)} for i in range(start, min(n, start + 5000))]
        with store.session() as s:
            s.execute(insert(Article), rows)
            if briefs:
                s.execute(insert(BriefRow), [{
                    "article_id": r["id"], "headline": r["title"], "summary": ["One.", "Two."],
                    "actors": [{"name": "Ann Lee", "description": "mayor", "position": "yes", "evidence": "Yes."}],
                    "topics": ["world"] if r["id"] % 10 == 0 else ["economy"], "engine": "extractive", "model": None,
                    "grounding_score": None, "flags": [], "cache_key": f"k{r['id']}", "created_at": now}
                    for r in rows])


def row(name: str, size: int, before: float, after: float, unit: str = "ms") -> None:
    scale = 1000 if unit == "ms" else 1
    print(f"| {name} | {size:,} | {before * scale:,.1f} {unit} | {after * scale:,.1f} {unit} | "
          f"{before / after:,.0f}x |", flush=True)


# -- measurements ---------------------------------------------------------------------------


def bench_dedup(tmp: Path, sizes: list[int]) -> None:
    queries = [article_text(f"query story {i}", n=10) for i in range(20)]
    for n in sizes:
        store = open_store(tmp, f"dedup{n}")
        fill_articles(store, n, rng=random.Random(n))
        config = parse_config({"data_dir": str(tmp)}, base_dir=tmp)
        ing = Ingester(config, store, Fetcher(config.ingest))
        start = time.perf_counter()
        ing.near_duplicate_of(fingerprint(queries[0]))  # builds the index: once per process
        build = time.perf_counter() - start
        before = timed(lambda: [before_near_duplicate(store, before_fingerprint(q)) for q in queries[:3]], 1) / 3
        after = timed(lambda: [ing.near_duplicate_of(fingerprint(q)) for q in queries], 3) / len(queries)
        row("near-duplicate check per new article (fingerprint + lookup)", n, before, after)
        print(f"|   (index built once per process: {build * 1000:,.0f} ms for {n:,} articles) | | | | |")
        store.close()


def bench_briefs(tmp: Path, sizes: list[int]) -> None:
    for n in sizes:
        store = open_store(tmp, f"briefs{n}")
        fill_articles(store, n, briefs=True, rng=random.Random(n))
        before = timed(lambda: before_list_briefs(store, limit=5), 3)
        after = timed(lambda: store.list_briefs(limit=5), 5)
        row("`briefs --limit 5`", n, before, after)
        before = timed(lambda: before_list_briefs(store, topic="world", limit=5), 3)
        after = timed(lambda: store.list_briefs(topic="world", limit=5), 5)
        row("`briefs --topic world --limit 5` (1 brief in 10 matches)", n, before, after)
        store.close()


def add_subscribers(store: Store, n: int, topic: str) -> None:
    now = utcnow()
    with store.session() as s:
        first = (s.scalar(select(Subscriber.id).order_by(Subscriber.id.desc()).limit(1)) or 0) + 1
    for start in range(0, n, 10_000):
        ids = range(first + start, first + min(n, start + 10_000))
        with store.session() as s:
            s.execute(insert(Subscriber), [{"id": i, "telegram_chat_id": 10_000_000 + i, "active": True,
                                            "email_verified": False, "timezone": "UTC", "digest_telegram": False,
                                            "created_at": now} for i in ids])
            s.execute(insert(Subscription), [{"subscriber_id": i, "kind": "topic", "value": topic, "created_at": now}
                                             for i in ids])


def bench_queue(tmp: Path, sizes: list[int]) -> None:
    for n in sizes:
        for follow in (True, False):
            store = open_store(tmp, f"queue{n}{follow}")
            fill_articles(store, 2, briefs=True, rng=random.Random(1))
            add_subscribers(store, n, "world" if follow else "sport")
            app = App(parse_config({"data_dir": str(tmp)}, base_dir=tmp), store=store)
            brief_ids = [i for i, _ in store.list_briefs(limit=2)]
            with store.session() as s:  # both briefs carry topic "world"
                for bid in brief_ids:
                    s.get(BriefRow, bid).topics = ["world"]
            start = time.perf_counter()
            queued_before = before_queue(app, brief_ids[0])
            before = time.perf_counter() - start
            start = time.perf_counter()
            queued_after = app.queue_deliveries(brief_ids[1])
            after = time.perf_counter() - start
            assert queued_before == queued_after == (n if follow else 0), (queued_before, queued_after)
            who = "who all follow it" if follow else "who follow something else"
            row(f"queueing one brief, {who}", n, before, after)
            app.close()


def bench_polls(tmp: Path, feeds: int, hosts: int, latency: float, workers: list[int]) -> None:
    servers = [LocalHTTPServer(host=f"127.0.0.{h + 1}").start() for h in range(hosts)]
    try:
        sources = []
        for f in range(feeds):
            server = servers[f % hosts]
            items = [Item(f"Story {f}-{i}", f"https://news.test/{f}/{i}",
                          article_text(f"feed {f} story {i}", n=3)) for i in range(3)]
            server.route(f"/feed{f}.xml", Response(rss(items), headers={"Content-Type": "application/rss+xml"},
                                                   delay=latency))
            sources.append({"name": f"feed{f}", "kind": "feed", "url": server.url(f"/feed{f}.xml")})
        results = {}
        for w in [1, *workers]:
            config = parse_config({"data_dir": str(tmp / f"polls{w}"), "sources": sources,
                                   "ingest": {"fetch_full_text": False, "per_host_delay_seconds": 0.1,
                                              "max_concurrent_polls": w}}, base_dir=tmp)
            with App(config) as app:
                start = time.perf_counter()
                reports = app.ingest(force=True)
                results[w] = time.perf_counter() - start
                assert sum(r.added for r in reports) == feeds * 3 and not any(r.error for r in reports)
        for w in workers:
            row(f"one poll cycle, {feeds:,} feeds on {hosts} hosts ({latency * 1000:.0f} ms per response), "
                f"{w} hosts at once vs one after another", feeds, results[1], results[w], "s")
    finally:
        for server in servers:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", default=["dedup", "briefs", "queue", "polls"],
                   choices=["dedup", "briefs", "queue", "polls"])
    p.add_argument("--scale", type=float, default=1.0, help="multiply every size by this")
    args = p.parse_args(argv)

    def sizes(*n: int) -> list[int]:
        return [max(10, int(x * args.scale)) for x in n]

    print("| path | size | before | after | ratio |\n|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if "dedup" in args.only:
            bench_dedup(tmp, sizes(2_000, 20_000))
        if "briefs" in args.only:
            bench_briefs(tmp, sizes(10_000, 100_000))
        if "queue" in args.only:
            bench_queue(tmp, sizes(10_000, 100_000))
        if "polls" in args.only:
            bench_polls(tmp, sizes(1_000)[0], 50, 0.05, [8, 16])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
