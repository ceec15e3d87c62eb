"""Polling sources into the store: the ingest stage's library API.

One failing source never stops the others: its error is recorded against it with
a back-off before the next try (``ingest.retry_base_seconds`` doubling up to
``ingest.retry_max_seconds``). One failing item never stops its source.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import urlsplit

from briefing.config import Config, SourceConfig
from briefing.errors import Action, BriefingError, EmptyContentError, FetchError, ParseError, classify
from briefing.ingest.dedup import canonical_url, fingerprint
from briefing.ingest.extract import ARTICLE_SUFFIXES, charset_of, decode, fragment_text
from briefing.ingest.discover import discover_feed
from briefing.ingest.feeds import FeedEntry
from briefing.ingest.filters import SourceFilter
from briefing.ingest.jsonfeed import looks_like_json_feed
from briefing.ingest.lsh import NearDuplicateIndex
from briefing.ingest.fetch import Fetcher, FetchResult
from briefing.ingest.parallel import poll_concurrently
from briefing.ingest.clean import clean_article
from briefing.ingest.sandbox import ParseSandbox
from briefing.models import ArticleDraft, utcnow
from briefing.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

NEAR_DUP_WINDOW = timedelta(days=7)
_FEED_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(rss|feed|rdf:RDF)\b", re.DOTALL)


def _permanent(exc: BriefingError) -> bool:
    """A fetch that will not work on a retry soon (404, 410, a refused URL, too large).

    A malformed feed is not: publishers usually fix it by the next item they publish.
    """
    return isinstance(exc, FetchError) and classify(exc) is Action.SKIP_AND_RECORD


def looks_like_feed(result: FetchResult) -> bool:
    """An ``auto`` source is a feed when the server says so or the document starts like one."""
    ctype = result.content_type
    if any(t in ctype for t in ("rss", "atom", "rdf")) or looks_like_json_feed(result.content, ctype):
        return True
    return bool(_FEED_START.match(result.content[:2048]))


def newest(entries: list[FeedEntry], n: int) -> list[FeedEntry]:
    """The ``n`` newest entries by date, whatever order the feed lists them in (an oldest-first
    feed longer than ``n`` must still yield its new items; issue 8). Undated entries keep their
    document order after the dated ones; the result is newest first."""
    order = sorted(range(len(entries)), key=lambda i: (entries[i].published is None,
                                                       -(entries[i].published.timestamp() if entries[i].published else 0), i))
    return [entries[i] for i in order[:n]]


@dataclass
class PollReport:
    source: str
    found: int = 0
    added: int = 0
    duplicates: int = 0
    filtered: int = 0  # left out by the source's include/exclude filters
    not_modified: bool = False
    error: str | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class AddResult:
    status: str  # added | duplicate | near-duplicate
    article_id: int | None


class Ingester:
    def __init__(self, config: Config, store: Store, fetcher: Fetcher, parser: ParseSandbox | None = None) -> None:
        self.config = config
        self.store = store
        self.fetcher = fetcher
        # Progress per article: called with (items found, items done) as a poll goes.
        self.item_progress: Callable[[int, int], None] | None = None
        # Sources are polled in parallel; the duplicate check and insert of one article at a time.
        self._add_lock = threading.Lock()
        # Every untrusted document (feed, page, local file) is parsed in the sandbox's child process.
        self.parser = parser or ParseSandbox(config.ingest.parse_timeout_seconds, config.ingest.parse_max_memory_mb)

    def close(self) -> None:
        self.parser.close()

    # -- sources -----------------------------------------------------------

    def sources(self) -> list[SourceConfig]:
        """Enabled sources: those in the config, then those an admin added at run time.

        A run-time source (``/addsource``) is stored with kind ``adhoc``; it is polled as
        kind ``auto`` (feed or page, told apart by the response) and, since its URL came
        from a chat, never with ``allow_private``.
        """
        configured = [s for s in self.config.sources if s.enabled]
        names = {s.name for s in self.config.sources}
        runtime = [SourceConfig(name=r.name, kind="auto", url=r.location, topics=tuple(r.topics or ()))
                   for r in self.store.list_sources(active_only=True) if r.kind == "adhoc" and r.name not in names]
        return configured + runtime

    def due(self, now: datetime | None = None) -> list[SourceConfig]:
        """Enabled sources whose next poll time has come (or that were never polled)."""
        now = now or utcnow()
        rows = {r.name: r for r in self.store.list_sources()}
        out = []
        for src in self.sources():
            row = rows.get(src.name)
            if row is None or row.next_poll_at is None or row.next_poll_at <= now:
                out.append(src)
        return out

    def poll_all(self, *, force: bool = False,
                 progress: Callable[[PollReport], None] | None = None,
                 item_progress: Callable[[int, int], None] | None = None) -> list[PollReport]:
        """Poll due sources (all with ``force``), hosts concurrently (``ingest.max_concurrent_polls``)."""
        self.store.sync_sources(self.config.source_specs())
        sources = self.sources() if force else self.due()
        self.item_progress = item_progress
        try:
            return poll_concurrently(self.poll, sources, self.config.ingest.max_concurrent_polls, progress)
        finally:
            self.item_progress = None

    def _items(self, found: int = 0, done: int = 0) -> None:
        if self.item_progress is not None:
            self.item_progress(found, done)

    def _counted(self, items: list[T]) -> Iterator[T]:
        """``items``, reporting them found at once and each done once the loop body has run."""
        self._items(found=len(items))
        for item in items:
            yield item
            self._items(done=1)

    def poll(self, src: SourceConfig) -> PollReport:
        report = PollReport(source=src.name)
        try:
            if src.kind == "folder":
                self._poll_folder(src, report)
            else:
                self._poll_url(src, report)
        except BriefingError as exc:
            report.error = str(exc)
            retry_at = self.store.record_poll_failure(
                src.name, report.error, backoff_base=self.config.ingest.retry_base_seconds,
                backoff_max=self.config.ingest.retry_max_seconds, permanent=_permanent(exc))
            log.warning("source %s failed: %s (next try %s)", src.name, report.error, retry_at.isoformat())
        return report

    def _success(self, src: SourceConfig, etag: str | None = None, last_modified: str | None = None) -> None:
        self.store.record_poll_success(src.name, etag=etag, last_modified=last_modified,
                                       next_poll_at=utcnow() + timedelta(minutes=src.interval_minutes))

    def _location(self, src: SourceConfig) -> tuple[str, bool]:
        """(URL to fetch, whether it is local). Local paths resolve against the config file."""
        if src.url and urlsplit(src.url).scheme in ("http", "https"):
            return src.url, False
        return self.config.resolve(src.path or src.url or "").resolve().as_uri(), True

    def _poll_folder(self, src: SourceConfig, report: PollReport) -> None:
        folder = self.config.resolve(src.path or "")
        if not folder.is_dir():
            raise FetchError(f"{folder}: folder not found")
        root = folder.resolve()
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in ARTICLE_SUFFIXES and p.is_file())
        for path in self._counted(paths):
            report.found += 1
            real = path.resolve()
            if not real.is_relative_to(root):
                # A symlink out of the watched folder (e.g. to /etc/passwd) is not an article of it.
                report.skipped.append(f"{path.name}: links outside the folder ({real}); not read")
                continue
            url = canonical_url(real.as_uri())
            if self.store.seen_url(url):
                report.duplicates += 1
                continue
            try:
                result = self.fetcher.fetch(url, allow_files=True)
                title, text, published = self.parser.run("file", real, result.content)
                if len(text) < self.config.ingest.min_article_chars:
                    raise EmptyContentError(f"not an article: only {len(text)} characters of text "
                                            f"(ingest.min_article_chars is {self.config.ingest.min_article_chars})")
                self._record(self.add(ArticleDraft(url, title, text, published, src.name)), report)
            except BriefingError as exc:
                report.skipped.append(f"{path.name}: {exc}")
        self._success(src)
        self._note_skips(src, report)

    def _poll_url(self, src: SourceConfig, report: PollReport) -> None:
        """Feed, page and auto sources: one conditional GET, then parse by kind."""
        url, local = self._location(src)
        # One fetch policy (public addresses only) unless the operator opted this configured source
        # in; a run-time source (/addsource) is never in the config, so never opted in.
        configured = self.config.source(src.name)
        private = configured is not None and configured.allow_private
        row = self.store.get_source(src.name)
        etag, last_modified = (row.etag, row.last_modified) if row else (None, None)
        result = self.fetcher.fetch(url, etag=etag, last_modified=last_modified, allow_files=local,
                                    allow_private=private)
        if result.not_modified:
            report.not_modified = True
            self._success(src, etag, last_modified)
            return
        if src.kind == "feed" or (src.kind == "auto" and looks_like_feed(result)):
            self._ingest_feed(src, result, report, local, private)
        elif src.kind == "auto" and (feed := self._discovered_feed(result, local, private)) is not None:
            # A home page naming its feed: read the feed. No validators are kept, since they would
            # belong to the feed but be sent to the page on the next poll.
            self._ingest_feed(src, feed, report, local, private)
            self._success(src)
            return
        else:
            self._ingest_page(src, result, report)
        self._success(src, result.etag, result.last_modified)

    def _discovered_feed(self, page: FetchResult, local: bool, private: bool) -> FetchResult | None:
        """The feed an HTML page links to with ``<link rel="alternate">``, fetched; None if none."""
        if "html" not in page.content_type and not page.content[:1024].lstrip().lower().startswith(b"<!doctype html"):
            return None
        try:
            text = decode(page.content, charset_of(page.headers.get("content-type")))
        except ParseError:
            return None
        feed_url = discover_feed(text, page.url)
        if feed_url is None or canonical_url(feed_url) == canonical_url(page.url):
            return None
        log.info("%s: reading its feed %s", page.url, feed_url)
        return self.fetcher.fetch(feed_url, allow_files=local and feed_url.startswith("file:"), allow_private=private)

    def _ingest_feed(self, src: SourceConfig, result: FetchResult, report: PollReport, local: bool,
                     private: bool) -> None:
        entries: list[FeedEntry] = self.parser.run("feed", result.content, result.url)
        for entry in self._counted(newest(entries, self.config.ingest.max_articles_per_poll)):
            report.found += 1
            link = canonical_url(entry.url)
            if self.store.seen_url(link):
                report.duplicates += 1
                continue
            try:
                draft = self._entry_article(src, entry, link, local, private)
                self._record(self.add(draft), report)
            except BriefingError as exc:
                report.skipped.append(f"{entry.url}: {exc}")
        self._note_skips(src, report)

    def _entry_article(self, src: SourceConfig, entry: FeedEntry, link: str, local: bool,
                       private: bool) -> ArticleDraft:
        """Full text from the linked page; the feed's own summary when the page fails."""
        title, text, published = entry.title, "", entry.published
        page_error = ""
        if self.config.ingest.fetch_full_text:
            try:
                page = self.fetcher.fetch(link, allow_files=local and link.startswith("file:"),
                                          allow_private=private)
                page_title, text, page_published = self._page_text(page.content, page.url,
                                                                    page.headers.get("content-type"))
                title = title or page_title
                published = published or page_published
            except (FetchError, ParseError) as exc:
                page_error = f"page unavailable ({exc}); "
                log.info("%s: full text unavailable (%s); using the feed's summary", link, exc)
        if len(text) < self.config.ingest.min_article_chars and entry.summary_html:
            feed_text = fragment_text(entry.summary_html)
            text = feed_text if len(feed_text) > len(text) else text
        if len(text) < self.config.ingest.min_article_chars:
            raise EmptyContentError(f"{page_error}not an article: only {len(text)} characters of text")
        title, text = clean_article(text, title)
        return ArticleDraft(link, title, text, published, src.name)

    def _page_text(self, data: bytes, url: str, content_type: str | None) -> tuple[str, str, datetime | None]:
        return self.parser.run("page", data, url, content_type)  # type: ignore[no-any-return]

    def _ingest_page(self, src: SourceConfig, result: FetchResult, report: PollReport) -> None:
        url = result.url
        report.found = 1
        self._items(found=1)
        title, text, published = self._page_text(result.content, result.url, result.headers.get("content-type"))
        if len(text) < self.config.ingest.min_article_chars:
            raise EmptyContentError(f"{url}: not an article, only {len(text)} characters of text")
        self._record(self.add(ArticleDraft(canonical_url(result.url), title, text, published, src.name)), report)
        self._items(done=1)

    def _note_skips(self, src: SourceConfig, report: PollReport) -> None:
        if report.skipped:
            log.warning("source %s: skipped %d item(s): %s", src.name, len(report.skipped), report.skipped[0])

    @staticmethod
    def _record(result: AddResult, report: PollReport) -> None:
        if result.status == "added":
            report.added += 1
        elif result.status == "filtered":
            report.filtered += 1
        else:
            report.duplicates += 1

    def _filter(self, source_name: str | None) -> SourceFilter | None:
        src = self.config.source(source_name) if source_name else None
        if src is None or not (src.include or src.exclude):
            return None
        return SourceFilter.build(src.include, src.exclude)

    # -- articles ----------------------------------------------------------

    def add(self, draft: ArticleDraft) -> AddResult:
        """Store an article unless it is a duplicate (same URL, same text, or nearly the same text)."""
        with self._add_lock:
            return self._add(draft)

    def _add(self, draft: ArticleDraft) -> AddResult:
        if self.store.seen_url(draft.url) or self.store.seen_hash(draft.content_hash):
            return AddResult("duplicate", None)
        rule = self._filter(draft.source_name)
        reason = rule.rejects(draft.title, draft.text) if rule else None
        if reason is not None:
            # Stored as 'filtered' (never summarised) so the next poll does not fetch it again.
            row = self.store.add_article(draft, source_name=draft.source_name, fingerprint=[], status="filtered")
            log.info("%s: filtered out (%s)", draft.url, reason)
            return AddResult("filtered", row.id if row else None)
        fp = fingerprint(draft.text)
        original = self.near_duplicate_of(fp)
        row = self.store.add_article(draft, source_name=draft.source_name, fingerprint=fp, duplicate_of=original)
        if row is None:
            return AddResult("duplicate", None)
        return AddResult("near-duplicate" if original else "added", row.id)

    @cached_property
    def near_duplicates(self) -> NearDuplicateIndex:
        """Originals of the last NEAR_DUP_WINDOW by LSH band (briefing/ingest/lsh.py)."""
        return NearDuplicateIndex(self.store.fingerprints_after, NEAR_DUP_WINDOW)

    def near_duplicate_of(self, fp: list[int]) -> int | None:
        """The original ``fp`` nearly duplicates, found through the LSH index."""
        return self.near_duplicates.best_match(fp, self.config.ingest.near_duplicate_threshold, utcnow())
