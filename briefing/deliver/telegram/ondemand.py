"""On-demand summaries for ``/summary``: a user's link or text, briefed now; plain-words failures.

A user's URL is fetched with the SSRF policy on (``Fetcher.fetch``'s one fetch policy: only
http(s), every address on every redirect hop public, size, time and redirect limits). The
brief is not stored: a page one user asked about is not pushed to anyone else.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from briefing.blocking import blocking
from briefing.config import Config
from briefing.errors import (
    BlockedURLError,
    EmptyContentError,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    ParseError,
    SummariseError,
    TooLargeError,
    TooManyRedirects,
)
from briefing.ingest import Fetcher
from briefing.ingest.extract import charset_of, decode, extract_html
from briefing.models import Brief
from briefing.summarise import Document, Engine

log = logging.getLogger(__name__)

# What a summary request runs: the service plugs in its worker queue here (with the priority
# of interactive work, ahead of the scheduler's batch), the default runs the engine in a thread.
Summarise = Callable[[Document], Awaitable[Brief]]
# What improves an answer already sent (the model's gist); the service plugs in its worker.
Improve = Callable[[Brief, Document], Awaitable[Brief]]

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$")
_TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


def engine_summariser(engine: Callable[[], Engine]) -> Summarise:
    """The engine's quick brief (``first``, else ``summarise``) in a thread (the default until a worker is plugged in)."""
    async def summarise(doc: Document) -> Brief:
        return await blocking(lambda: (getattr(engine(), "first", None) or engine().summarise)(doc))
    return summarise


def engine_improver(engine: Callable[[], Engine]) -> Improve:
    """The engine's ``improve`` (the gist) in a thread; the brief as it is for engines without one."""
    async def improve(brief: Brief, doc: Document) -> Brief:
        fn = getattr(engine(), "improve", None)
        return brief if fn is None else await blocking(fn, brief, doc)
    return improve


def looks_like_url(text: str) -> bool:
    """Anything with a scheme counts, so ``file://`` or ``ftp://`` get a clear refusal."""
    return bool(_URL.match(text.strip()))


def read_url(fetcher: Fetcher, url: str, min_chars: int) -> tuple[Document, str]:
    """Fetch (SSRF-safe) and extract a page: the document and the final URL. Blocking."""
    result = fetcher.fetch(url)
    if result.content_type not in _TEXT_TYPES:
        raise EmptyContentError(f"{url}: {result.content_type} is not a web page")
    text = decode(result.content, charset_of(result.headers.get("content-type")))
    if result.content_type == "text/plain":
        title, body = text.strip().split("\n", 1)[0][:200], text
    else:
        title, body, _ = extract_html(text, result.url)
    if len(body) < min_chars:
        raise EmptyContentError(f"{url}: only {len(body)} characters of text")
    return Document(title=title or result.url, text=body), result.url


def text_document(text: str) -> Document:
    """A pasted or forwarded text as a document: first line is the title."""
    text = text.strip()
    first = text.split("\n", 1)[0]
    return Document(title=first[:120], text=text)


def explain(exc: BaseException, config: Config) -> str:
    """A failure in plain words for the user (the technical reason goes to the log)."""
    if isinstance(exc, TooManyRedirects):
        return f"That link redirects too many times (more than {config.ingest.max_redirects})."
    if isinstance(exc, BlockedURLError):
        return ("That link is not allowed: I only read public http(s) web pages, "
                "not local, private or internal addresses.")
    if isinstance(exc, TooLargeError):
        return f"That page is too large (over {config.ingest.max_bytes / 1e6:g} MB)."
    if isinstance(exc, FetchTimeout):
        return "That site did not answer in time."
    if isinstance(exc, HTTPStatusError):
        return f"That site could not be reached: it answered with an error (HTTP {exc.status})."
    if isinstance(exc, FetchError):
        return "That site could not be reached."
    if isinstance(exc, (EmptyContentError, ParseError)):
        return "That does not look like an article: I found no article text to summarise."
    if isinstance(exc, SummariseError):
        return "The summariser could not brief that text. Please try again later."
    return "Something went wrong while summarising. Please try again later."


@dataclass
class SummaryRateLimit:
    """At most ``per_hour`` model summaries per user in any sliding hour (kept in memory)."""

    per_hour: int
    clock: Callable[[], float] = time.monotonic
    _seen: dict[int, deque[float]] = field(default_factory=dict)

    def allow(self, user_id: int) -> float | None:
        """None when allowed (and counted), else the seconds until the next one is."""
        now = self.clock()
        seen = self._seen.setdefault(user_id, deque())
        while seen and seen[0] <= now - 3600:
            seen.popleft()
        if len(seen) >= self.per_hour:
            return 3600 - (now - seen[0]) if seen else 3600.0
        seen.append(now)
        return None
