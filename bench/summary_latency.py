"""/summary latency as a Telegram user sees it: the service's bot, its summariser worker and the gist model.

    python bench/summary_latency.py                        # bundled seeds/, 1 then 4 users, gist if installed
    flock /tmp/measure.lock python bench/summary_latency.py --data ../shared/eval/dev.jsonl \\
        --requests 20 --users 1 --users 4

What runs: ``briefing run``'s :class:`~briefing.service.runner.Service` in this process (its
Telegram bot, its one summariser worker thread, the configured engine with the model-written
gist), polling the local Bot API server of the tests (``tests/support/botapi.py``) on the same
event loop. Articles are served by the tests' local HTTP server (``tests/support/http.py``)
and a user sends ``/summary <url>`` (``--mode url``; the service's fetcher is given the tests'
DNS, so that ``siteN.news.test`` on 127.0.0.1 counts as a public site, user N's) or replies ``/summary`` to a
pasted article (``--mode text``, at most one Telegram message: 4,096 characters).

Measured per request from the moment the user's message is available to the bot, at the Bot API
server (what Telegram would see):

- **placeholder**: the "Reading …" message;
- **first reply**: the first edit of that message, which carries the extractive brief — the
  first answer with content, what the issue's "first reply p95 ≤ 3 s" is about;
- **gist edit**: the second edit, the same message with the model's gist.

Each request ends with the gist edit, with the gist dropped by the guard (no edit), with the
bot's ``summariser.gist_timeout_seconds`` passing first (no edit; the answer stays extractive)
or with a failure. Users are separate chats (a closed loop each): a user sends a request
``--pause`` seconds after their previous one ended (the first, after the warm-up request), so
``--users 4`` keeps up to four requests in flight. The pause (default 2 s: a user reads the answer first) keeps Telegram's one message a
second per chat, which the bot's flood limiter enforces, from holding back the next placeholder.
Articles are never repeated in a run: once all are used, a repeat gets " (2)" after its title, so
llama.cpp cannot answer from the KV cache of the previous request. One warm-up request is not
counted. p95 is the nearest rank: with N = 20 it is the 19th value.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from briefing.config import Config, IngestConfig, SummariserConfig, parse_config  # noqa: E402
from briefing.deliver.telegram.ondemand import text_document  # noqa: E402
from briefing.errors import BriefingError  # noqa: E402
from briefing.ingest import Fetcher  # noqa: E402
from briefing.ingest.extract import extract_html, read_article_file  # noqa: E402
from briefing.models import Brief  # noqa: E402
from briefing.sentences import split_sentences  # noqa: E402
from briefing.service.runner import Service  # noqa: E402
from briefing.summarise.base import Document  # noqa: E402
from tests.builders import html_page  # noqa: E402
from tests.support.botapi import TOKEN, BotAPIServer  # noqa: E402
from tests.support.http import LocalHTTPServer, Response, loopback_is_public, resolver  # noqa: E402

TELEGRAM_MAX = 4096
CHAT0 = 30_000_000
_GIST_LOG = re.compile(r"^gist for .* in ([0-9.]+)s")


@dataclass
class Article:
    title: str
    body: str
    pasted: str  # what a user pastes to reply /summary to it

    @classmethod
    def headed(cls, title: str, body: str) -> "Article":
        return cls(title, body, f"{title}\n\n{body}")


@dataclass
class Result:
    user: int
    # "gist", "no gist" (the guard dropped it), "timed out", "failed" (an error answer), "too long"
    # (the brief took two messages: no gist is edited in), "lost" (nothing within the patience)
    outcome: str = "failed"
    placeholder: float | None = None
    first: float | None = None
    gist: float | None = None


def load_articles(data: Path | None, dataset: str) -> list[Article]:
    """The bundled seeds/, or the ``article`` of each ``--data`` JSONL row long enough to be briefed
    (``ingest.min_article_chars``; shorter ones get "not an article").

    A row has no headline: its web page is headed by its first sentence (cut to 120 characters),
    and a user pastes the article as it is.
    """
    if data is None:
        files = sorted(p for p in (REPO / "seeds").rglob("*") if p.suffix in (".txt", ".md", ".html"))
        return [Article.headed(t, b) for t, b, _ in (read_article_file(p, p.read_bytes()) for p in files)]
    shortest = IngestConfig().min_article_chars
    out = []
    for line in data.read_text(encoding="utf-8").splitlines():
        row = json.loads(line) if line.strip() else {}
        text = str(row.get("article", "")).strip()
        if len(text) < shortest or not str(row.get("source_dataset", "")).startswith(dataset):
            continue
        first = split_sentences(text)[0]
        title = first if len(first) <= 120 else first[:120].rsplit(" ", 1)[0] + " …"
        out.append(Article(title, text, text))
    return out


class Requests:
    """The run's requests, each a new article (or a titled repeat) served at its own URL."""

    def __init__(self, articles: list[Article], mode: str, site: LocalHTTPServer) -> None:
        self.articles, self.mode, self.site = articles, mode, site
        self.n = 0

    def next(self, user: int) -> tuple[str, str]:
        """(the message ``user`` sends, the title the bot's document will have)."""
        a = self.articles[self.n % len(self.articles)]
        title = a.title if self.n < len(self.articles) else f"{a.title} ({self.n // len(self.articles) + 1})"
        self.n += 1
        if self.mode == "text":
            text = cut(a.pasted if title == a.title else f"{title}\n\n{a.pasted}", TELEGRAM_MAX)
            return text, text_document(text).title
        page = html_page(title, a.body)
        path = f"/story/{self.n}"
        self.site.route(path, Response(page, headers={"Content-Type": "text/html; charset=utf-8"}))
        url = f"http://site{user}.news.test:{self.site.port}{path}"
        return f"/summary {url}", extract_html(page, url)[0] or url


def site_resolver(host: str, port: int) -> list[str]:
    """The tests' DNS, with every ``siteN.news.test`` on 127.0.0.1 too: each user reads another site,
    as users do, so the fetcher's politeness delay per host (``ingest.per_host_delay_seconds``)
    does not space out different users' requests."""
    return ["127.0.0.1"] if host.endswith(".news.test") else resolver(host, port)


def cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, ended at a paragraph or sentence end where there is one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max(head.rfind("\n\n"), head.rfind(". ") + 1)
    return head[:end] if end > limit // 2 else head


class Observer:
    """When the bot's two stages finished for a document (keyed by title), and how the gist ended.

    Wraps the service bot's ``summarise`` and ``improve`` (what it calls; the service's worker
    queue is behind them): the time a stage takes is measured at the Bot API server, not here.
    """

    def __init__(self) -> None:
        self.first: set[str] = set()
        self.outcome: dict[str, str] = {}
        self._ended: dict[str, asyncio.Event] = {}

    def ended(self, title: str) -> asyncio.Event:
        return self._ended.setdefault(title, asyncio.Event())

    def wrap(self, summarise: Callable[[Document], Awaitable[Brief]],
             improve: Callable[[Brief, Document], Awaitable[Brief]]) -> tuple[Any, Any]:
        async def first(doc: Document) -> Brief:
            brief = await summarise(doc)
            self.first.add(doc.title)
            return brief

        async def better(brief: Brief, doc: Document) -> Brief:
            outcome = "failed"
            try:
                out = await improve(brief, doc)
                outcome = "gist" if out.gist else "no gist"
                return out
            except asyncio.CancelledError:  # the bot's gist_timeout_seconds passed
                outcome = "timed out"
                raise
            finally:
                self.outcome[doc.title] = outcome
                self.ended(doc.title).set()

        return first, better


class GistTimes(logging.Handler):
    """The model's own seconds per brief, from the gist's log line (queueing excluded)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        m = _GIST_LOG.match(record.getMessage())
        if m:
            self.seconds.append(float(m.group(1)))


def service_config(work: Path, botapi: BotAPIServer, gist: bool, gist_timeout: float) -> Config:
    return parse_config({
        "data_dir": str(work / "data"),
        "log_level": "WARNING",
        # The default (10 an hour per user) would refuse a benchmark; every other limit is the default.
        "telegram": {"enabled": True, "base_url": botapi.base_url, "summary_rate_per_hour": 100_000},
        "summariser": {"gist": gist, "gist_timeout_seconds": gist_timeout},
        "service": {"http_port": 0},
    }, origin="bench", base_dir=work)


async def one_request(botapi: BotAPIServer, observer: Observer, user: int, message: str, title: str,
                      reply: bool, patience: float) -> Result:
    chat = CHAT0 + user
    res = Result(user)
    sends, edits = len(botapi.sent(chat)), len(botapi.sent(chat, "editMessageText"))
    original = {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"}, "text": message}
    start = time.monotonic()
    if reply:
        botapi.push_message(chat, "/summary", reply_to=original)
    else:
        botapi.push_message(chat, message)
    res.placeholder = (await botapi.wait_for("sendMessage", sends + 1, chat_id=chat, timeout=patience))[-1].at - start
    res.first = (await botapi.wait_for("editMessageText", edits + 1, chat_id=chat,
                                       timeout=patience))[-1].at - start
    if title not in observer.first:
        return res  # the first edit is an error message: nothing more comes
    # The gist's end, unless the brief took more than one message (then no gist is edited in).
    ended = asyncio.ensure_future(observer.ended(title).wait())
    split = asyncio.ensure_future(botapi.wait_for("sendMessage", sends + 2, chat_id=chat, timeout=patience))
    done, pending = await asyncio.wait({ended, split}, timeout=patience, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if ended not in done:
        res.outcome = "too long" if split in done else "lost"
        return res
    res.outcome = observer.outcome[title]
    if res.outcome == "gist":
        try:
            res.gist = (await botapi.wait_for("editMessageText", edits + 2, chat_id=chat, timeout=10))[-1].at - start
        except TimeoutError:
            res.outcome = "no gist"  # a gist the bot did not edit in (over one message)
    return res


async def scenario(botapi: BotAPIServer, observer: Observer, requests: Requests, users: int, n: int,
                   pause: float, patience: float) -> list[Result]:
    """``users`` chats at once, each sending its share of ``n`` requests one after another."""
    async def user(u: int, count: int) -> list[Result]:
        out = []
        for _ in range(count):
            await asyncio.sleep(pause)
            message, title = requests.next(u)
            out.append(await one_request(botapi, observer, u, message, title, requests.mode == "text", patience))
        return out

    shares = [n // users + (1 if u < n % users else 0) for u in range(users)]
    per_user = await asyncio.gather(*(user(u, c) for u, c in enumerate(shares)))
    return [r for rs in per_user for r in rs]


def pct(values: list[float]) -> str:
    """p50 / p95 / max in seconds (nearest rank), or a dash."""
    if not values:
        return "—"
    v = sorted(values)

    def rank(q: float) -> float:
        return v[max(0, math.ceil(q * len(v)) - 1)]

    return f"{rank(0.5):.2f} / {rank(0.95):.2f} / {v[-1]:.2f}"


@dataclass
class Row:
    users: int
    results: list[Result]
    model_seconds: list[float] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)


def print_header(header: str) -> None:
    print(f"\n{header}\n")
    print("| users | N | placeholder s p50/p95/max | first reply (extractive brief) s p50/p95/max "
          "| gist edit s p50/p95/max | gist edits / dropped by guard / timed out / other "
          "| model s per gist p50 | load 1-min start→end |")
    print("|---|---|---|---|---|---|---|---|", flush=True)


def print_row(row: Row, gist: bool) -> None:
    """One row, printed as soon as it is measured (a long model run keeps what it measured)."""
    rs = row.results
    count = {k: sum(r.outcome == k for r in rs) for k in ("gist", "no gist", "timed out")}
    other = ", ".join(f"{n} {k}" for k, n in Counter(r.outcome for r in rs).items() if k not in count) or "0"
    outcomes = (f"{count['gist']} / {count['no gist']} / {count['timed out']} / {other}" if gist
                else f"gist off / {other}")
    model = f"{sorted(row.model_seconds)[len(row.model_seconds) // 2]:.1f}" if row.model_seconds else "—"
    print(f"| {row.users} | {len(rs)} | {pct([r.placeholder for r in rs if r.placeholder is not None])} "
          f"| {pct([r.first for r in rs if r.first is not None and r.outcome != 'failed'])} "
          f"| {pct([r.gist for r in rs if r.gist is not None])} | {outcomes} "
          f"| {model} | {row.load[0]:.2f} → {row.load[1]:.2f} |", flush=True)


def gist_available(config: Config) -> str | None:
    """Why the gist model cannot run here, or None."""
    from briefing.summarise.gist_engine import gist_model_path
    from briefing.summarise.llama_runtime import available

    if not available():
        return "llama-cpp-python is not installed"
    try:
        gist_model_path(config.summariser)
    except BriefingError as exc:
        return str(exc)
    return None


async def run(args: argparse.Namespace, articles: list[Article]) -> int:
    os.environ.setdefault("BRIEFING_TELEGRAM_TOKEN", TOKEN)
    botapi = await BotAPIServer().start()
    site = LocalHTTPServer().start()
    times = GistTimes()
    logging.getLogger("briefing.summarise.gist").addHandler(times)
    logging.getLogger("briefing.summarise.gist").setLevel(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="briefing-latency-") as tmp:
        config = service_config(Path(tmp), botapi, True, args.gist_timeout)
        why = gist_available(config) if args.gist != "off" else "--gist off"
        if why and args.gist == "on":
            print(f"error: the gist model cannot run: {why}", file=sys.stderr)
            return 2
        gist = why is None
        if not gist:
            config = service_config(Path(tmp), botapi, False, args.gist_timeout)
            print(f"No gist (extractive only): {why}", file=sys.stderr)
        service = Service(config)
        assert service.bot is not None
        # /summary <url> on 127.0.0.1: the tests' DNS and address policy (news.test counts as public).
        service.app.fetcher.close()
        service.app.fetcher = Fetcher(config.ingest, resolver=site_resolver, ip_allowed=loopback_is_public)
        observer = Observer()
        service.bot.summarise, service.bot.improve = observer.wrap(service.bot.summarise, service.bot.improve)
        started = time.monotonic()
        await service.start()
        load_s = time.monotonic() - started
        patience = args.gist_timeout + 300.0
        requests = Requests(articles, args.mode, site)
        engine = config.summariser.engine + (f" + gist {config.summariser.gist_model}" if gist else "")
        source = f"{args.data} ({args.dataset or 'all'})" if args.data else "seeds/"
        print_header(f"/summary ({args.mode}) on the service: {engine}; gist_timeout_seconds "
                     f"{args.gist_timeout:g}; articles from {source}; {os.cpu_count()} CPUs; "
                     f"start-up (model load) {load_s:.1f} s; {args.pause:g} s between a user's requests")
        try:
            await scenario(botapi, observer, requests, 1, 1, args.pause, patience)  # warm-up, not counted
            for users in args.users:
                times.seconds.clear()
                load0 = os.getloadavg()[0]
                results = await scenario(botapi, observer, requests, users, args.requests, args.pause, patience)
                print_row(Row(users, results, list(times.seconds), (load0, os.getloadavg()[0])), gist)
        finally:
            await service.stop()
            await botapi.stop()
            site.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None,
                    help="a JSONL file with an 'article' field (e.g. ../shared/eval/dev.jsonl), read in place; "
                         "default: the bundled seeds/")
    ap.add_argument("--dataset", default="", help="only rows whose source_dataset starts with this (e.g. xsum)")
    ap.add_argument("--mode", choices=("url", "text"), default="url",
                    help="/summary <url> of a local page, or /summary in reply to a pasted text")
    ap.add_argument("--requests", type=int, default=6, help="requests per row of the table (N)")
    ap.add_argument("--users", type=int, action="append", help="concurrent users (repeatable; default 1 and 4)")
    ap.add_argument("--pause", type=float, default=2.0, help="seconds a user waits between their requests")
    ap.add_argument("--gist", choices=("auto", "on", "off"), default="auto",
                    help="the model-written gist: auto = when llama-cpp-python and the model are installed")
    default_timeout = SummariserConfig().gist_timeout_seconds
    ap.add_argument("--gist-timeout", type=float, default=default_timeout,
                    help=f"summariser.gist_timeout_seconds (default {default_timeout:g}, the config's)")
    args = ap.parse_args(argv)
    args.users = args.users or [1, 4]
    logging.basicConfig(level=logging.WARNING)
    articles = load_articles(args.data, args.dataset)
    if not articles:
        ap.error("no articles")
    return asyncio.run(run(args, articles))


if __name__ == "__main__":
    raise SystemExit(main())
