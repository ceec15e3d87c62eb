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
- index: queueing one brief nobody follows, N subscribers, without and with the subscriptions(kind, value) index.
- deliver: draining one brief to N Telegram chats (DeliverySender; an in-process send that answers at
  once, so what is measured is our own cost per message: database and rendering).
- digests: one digest run (`send_due_digests`) for N email subscribers against a local SMTP sink
  (aiosmtpd, with a login), old path vs new.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import aiosmtplib  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult  # noqa: E402
from sqlalchemy import event, insert, select, text  # noqa: E402

from briefing.config import parse_config, secret  # noqa: E402
from briefing.deliver.email.digests import digest_message  # noqa: E402
from briefing.deliver.email.unsubscribe import UnsubscribeSigner  # noqa: E402
from briefing.deliver.telegram.format import brief_html, split_html  # noqa: E402
from briefing.deliver.telegram.sender import DeliverySender, DrainReport  # noqa: E402
from briefing.ingest import Fetcher, Ingester  # noqa: E402
from briefing.ingest.dedup import NUM_PERM, _MASK, _PERMS, _shingles, fingerprint, similarity  # noqa: E402
from briefing.models import Brief, Candidate  # noqa: E402
from briefing.app import App  # noqa: E402
from briefing.service.digests import send_due_digests  # noqa: E402
from briefing import digest as digest_compose  # noqa: E402
from briefing.matching import matches  # noqa: E402
from briefing.store import Store  # noqa: E402
from briefing.store.schema import (  # noqa: E402
    Article, BriefRow, Delivery, Digest, Source, Subscriber, Subscription, utcnow)
from briefing.store.briefs import _brief  # noqa: E402
from tests.builders import Item, article_text, rss  # noqa: E402
from tests.support.http import LocalHTTPServer, Response  # noqa: E402

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
    with app.store.session() as s:  # the old Store.chat_subscriber_ids
        chats = set(s.scalars(select(Subscriber.id).where(Subscriber.id.in_(matched),
                                                          Subscriber.telegram_chat_id.is_not(None))))
    return app.store.queue_deliveries(brief_id, [(sid, "telegram") for sid in sorted(chats)])


class BeforeSender(DeliverySender):
    """The Telegram drain before issue 13: subscriber and brief re-read, and the brief re-rendered,
    for every delivery; each part recorded, then the delivery marked sent (3-4 transactions)."""

    async def _send_batch(self, batch: list[Delivery], rendered: object, report: DrainReport) -> None:
        by_subscriber: dict[int, list[Delivery]] = {}
        for d in batch:
            by_subscriber.setdefault(d.subscriber_id, []).append(d)
        gate = asyncio.Semaphore(self.concurrency)

        async def run(group: list[Delivery]) -> None:
            async with gate:
                for delivery in group:
                    await asyncio.shield(self._before_deliver(delivery, report))

        await asyncio.gather(*(run(g) for g in by_subscriber.values()))

    async def _before_deliver(self, delivery: Delivery, report: DrainReport) -> None:
        sub = await asyncio.to_thread(self.store.get_subscriber, delivery.subscriber_id)
        brief = await asyncio.to_thread(self.store.get_brief, delivery.brief_id)
        assert sub is not None and brief is not None and sub.telegram_chat_id is not None
        parts = split_html(brief_html(brief))
        done = [x for x in (delivery.external_id or "").split(",") if x]
        sent = delivery.external_id
        for part in parts[len(done):]:
            ids = await self._send_html(sub.telegram_chat_id, part)
            done += [str(i) for i in ids] or ["0"]
            sent = ",".join(done)
            await asyncio.to_thread(self.store.record_delivery_parts, delivery.id, sent)
        await asyncio.to_thread(self.store.mark_delivery_sent, delivery.id, sent)
        report.sent += 1


def before_compose(store: Store, *, digest_date, period_start, period_end, subs, now, max_items,  # noqa: ANN001
                   subscriber_name=None, brief_ids=None) -> digest_compose.DigestContent:  # noqa: ANN001
    """compose() before issue 13: the candidate ids, then one get_brief per brief."""
    q = select(BriefRow.id, BriefRow.article_id, BriefRow.created_at)
    q = (q.where(BriefRow.id.in_(list(brief_ids))) if brief_ids is not None
         else q.where(BriefRow.created_at >= period_start, BriefRow.created_at < period_end).order_by(BriefRow.id))
    with store.session() as s:
        rows = list(s.execute(q))
    found = [Candidate(i, a, c, b) for i, a, c in rows if (b := store.get_brief(i)) is not None]
    dups = store.duplicate_counts([c.article_id for c in found])
    sections, omitted = digest_compose.rank(found, subs, dups, now, max_items)
    return digest_compose.DigestContent(digest_date, period_start, period_end, tuple(sections), omitted,
                                        subscriber_name)


async def before_digest_run(store: Store, config, now) -> int:  # noqa: ANN001
    """send_due_digests() before issue 13 (email only): each digest composed when recorded and again
    when sent, subscriptions and the previous period read per subscriber, one query per brief, and
    a new SMTP connection (TLS, login) per message (aiosmtplib.send)."""
    cfg, signer = config.email, UnsubscribeSigner.from_config(config.email)
    for sub in store.active_subscribers():
        slot = digest_compose.latest_slot(now, sub.digest_time, sub.timezone)
        start = store.previous_period_end(sub.id, "email") or now - timedelta(hours=24)
        content = before_compose(store, digest_date=slot.digest_date, period_start=start, period_end=now,
                                 subs=store.subscriptions(sub.id), now=now, max_items=cfg.max_briefs)
        store.record_digest(subscriber_id=sub.id, digest_date=content.digest_date.isoformat(),
                            channel="email", status="pending", brief_ids=content.brief_ids,
                            period_start=start, period_end=now, message_id=f"<d{sub.id}@bench>")
    sent = 0
    while (claimed := store.claim_digest(("email",), now, timedelta(minutes=10))) is not None:
        row, sub = claimed
        assert sub is not None
        content = before_compose(store, digest_date=date.fromisoformat(row.digest_date),
                                 period_start=row.period_start, period_end=row.period_end,
                                 subs=store.subscriptions(sub.id), now=row.period_end,
                                 max_items=cfg.max_briefs, brief_ids=row.brief_ids,
                                 subscriber_name=sub.display_name)
        message = digest_message(config, signer, sub, content, message_id=row.message_id, now=now)
        await aiosmtplib.send(message, hostname=cfg.smtp_host, port=cfg.smtp_port,
                              username=secret(cfg.username_env), password=secret(cfg.password_env),
                              use_tls=False, start_tls=False, timeout=cfg.timeout_seconds)
        store.update_digest(row.id, status="sent", sent_at=now, last_error=None)
        store.update_subscriber(row.subscriber_id, last_digest_at=row.period_end)
        sent += 1
    return sent


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


class Counter:
    """SQL statements and committed transactions on an engine while the block runs."""

    def __init__(self, store: Store) -> None:
        self.engine, self.statements, self.commits = store.engine, 0, 0

    def _stmt(self, *args: object) -> None:
        self.statements += 1

    def _commit(self, *args: object) -> None:
        self.commits += 1

    def __enter__(self) -> "Counter":
        event.listen(self.engine, "before_cursor_execute", self._stmt)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._stmt)
        event.remove(self.engine, "commit", self._commit)


def bench_index(tmp: Path, sizes: list[int]) -> None:
    for n in sizes:
        store = open_store(tmp, f"index{n}")
        fill_articles(store, 2, briefs=True, rng=random.Random(1))
        add_subscribers(store, n, "sport")
        app = App(parse_config({"data_dir": str(tmp)}, base_dir=tmp), store=store)
        brief_id = store.list_briefs(limit=1)[0][0]
        with store.session() as s:
            s.get(BriefRow, brief_id).topics = ["world"]
        after = timed(lambda: app.queue_deliveries(brief_id), 5)  # matches nobody: repeatable
        with store.engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_subscriptions_kind_value"))
        before = timed(lambda: app.queue_deliveries(brief_id), 5)
        row("queueing one brief that no subscriber follows: without vs with the subscriptions(kind, value) index",
            n, before, after)
        app.close()


async def _drain(sender: DeliverySender, n: int) -> float:
    start = time.perf_counter()
    report = await sender.drain(limit=n)
    assert report.sent == n, report.errors
    return time.perf_counter() - start


def bench_deliver(tmp: Path, sizes: list[int]) -> None:
    ids = itertools.count(1)

    async def send(chat_id: int, html: str) -> list[int]:  # Telegram answering at once
        return [next(ids)]

    config = parse_config({"data_dir": str(tmp)}, base_dir=tmp).telegram
    for n in sizes:
        results = {}
        for way, cls in (("before", BeforeSender), ("after", DeliverySender)):
            store = open_store(tmp, f"deliver{n}{way}")
            fill_articles(store, 1, briefs=True, rng=random.Random(1))
            add_subscribers(store, n, "world")
            store.queue_deliveries(1, [(sid, "telegram") for sid in range(1, n + 1)])
            with Counter(store) as counter:
                seconds = asyncio.run(_drain(cls(store, config, send, send), n))
            results[way] = (seconds, counter)
            store.close()
        (b, bc), (a, ac) = results["before"], results["after"]
        print(f"| delivering one brief to {n:,} chats (our cost per message; send answers at once) | {n:,} | "
              f"{b / n * 1000:.2f} ms, {bc.commits / n:.2f} tx, {bc.statements / n:.1f} SQL per message | "
              f"{a / n * 1000:.2f} ms, {ac.commits / n:.2f} tx, {ac.statements / n:.1f} SQL per message | "
              f"{b / a:.1f}x |", flush=True)


class Sink:
    """aiosmtpd handler: counts messages, connections and logins; keeps nothing else."""

    def __init__(self) -> None:
        self.messages, self.logins = 0, 0  # one login per connection (the sink requires it)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001, ANN201
        self.messages += 1
        return "250 OK"

    def auth(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN201
        self.logins += 1
        return AuthResult(success=True)


def fill_digest_readers(store: Store, n: int, now: datetime) -> None:
    """n verified email readers following 'economy', due at 07:00 UTC; 10 briefs in their period."""
    fill_articles(store, 10, briefs=True, rng=random.Random(1))
    with store.session() as s:
        for i, b in enumerate(s.scalars(select(BriefRow))):
            b.topics, b.created_at = ["economy"], now - timedelta(hours=i + 1)
    created = utcnow()
    for start in range(0, n, 10_000):
        rows = range(start + 1, min(n, start + 10_000) + 1)
        with store.session() as s:
            s.execute(insert(Subscriber), [{"id": i, "email": f"reader{i}@example.org", "email_verified": True,
                                            "active": True, "timezone": "UTC", "digest_time": "07:00",
                                            "digest_telegram": False, "created_at": created} for i in rows])
            s.execute(insert(Subscription), [{"subscriber_id": i, "kind": "topic", "value": "economy",
                                              "created_at": created} for i in rows])


def bench_digests(tmp: Path, sizes: list[int]) -> None:
    import logging
    import warnings
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    os.environ.setdefault("BRIEFING_UNSUBSCRIBE_SECRET", "bench-secret-0123456789")
    os.environ.setdefault("BRIEFING_SMTP_USERNAME", "bench")
    os.environ.setdefault("BRIEFING_SMTP_PASSWORD", "bench")
    now = datetime(2026, 11, 27, 8, 0, tzinfo=timezone.utc)
    for n in sizes:
        results = {}
        for way in ("before", "after"):
            sink = Sink()
            with socket.socket() as sock:  # a free port
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            controller = Controller(sink, hostname="127.0.0.1", port=port, authenticator=sink.auth,
                                    auth_required=True, auth_require_tls=False)
            controller.start()
            try:
                store = open_store(tmp, f"digests{n}{way}")
                fill_digest_readers(store, n, now)
                config = parse_config({"data_dir": str(tmp), "email": {
                    "enabled": True, "smtp_host": "127.0.0.1", "smtp_port": port, "security": "none",
                    "from_address": "Briefing <briefing@news.example>", "timeout_seconds": 30,
                    "unsubscribe_base_url": "https://news.example"}}, base_dir=tmp)
                app = App(config, store=store)
                with Counter(store) as counter:
                    start = time.perf_counter()
                    if way == "before":
                        sent = asyncio.run(before_digest_run(store, config, now))
                    else:
                        sent = asyncio.run(send_due_digests(app, now)).sent
                    seconds = time.perf_counter() - start
                assert sent == sink.messages == n, (sent, sink.messages, n)
                results[way] = (seconds, counter, sink.logins)
                app.close()
            finally:
                controller.stop()
        (b, bc, blog), (a, ac, alog) = results["before"], results["after"]
        print(f"| one digest run, {n:,} email subscribers, local SMTP sink with login | {n:,} | "
              f"{b:.1f} s, {bc.statements / n:.1f} SQL and {bc.commits / n:.1f} tx per digest, "
              f"{blog:,} connections (one login each) | "
              f"{a:.1f} s, {ac.statements / n:.1f} SQL and {ac.commits / n:.1f} tx per digest, "
              f"{alog:,} connection(s) | {b / a:.1f}x |", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    groups = ["dedup", "briefs", "queue", "polls", "index", "deliver", "digests"]
    p.add_argument("--only", nargs="*", default=groups, choices=groups)
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
        if "index" in args.only:
            bench_index(tmp, sizes(10_000, 100_000))
        if "deliver" in args.only:
            bench_deliver(tmp, sizes(1_000, 10_000))
        if "digests" in args.only:
            bench_digests(tmp, sizes(1_000, 10_000))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
