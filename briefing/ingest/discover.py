"""Feed autodiscovery: the feed a home page names in ``<link rel="alternate" type=...>``.

The convention of RSS and Atom autodiscovery (https://www.rssboard.org/rss-autodiscovery) and
JSON Feed (https://www.jsonfeed.org/version/1.1/, "Discovery"). RSS is preferred, then Atom,
then JSON Feed; the first of a type wins, as browsers do.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin

if TYPE_CHECKING:
    from briefing.ingest.fetch import Fetcher

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/json")


class _LinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.found: list[tuple[str, str]] = []  # (type, href)
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        elif tag == "link" and "alternate" in a.get("rel", "").lower().split():
            kind = a.get("type", "").split(";")[0].strip().lower()
            if kind in FEED_TYPES and a.get("href", "").strip():
                self.found.append((kind, a["href"].strip()))
        elif tag == "body":
            self.done = True  # the links belong in <head>; don't read a whole page for them


def discover_feed(page: str, page_url: str) -> str | None:
    """Absolute URL of the feed ``page`` links to, or None."""
    finder = _LinkFinder()
    try:
        finder.feed(page[:512_000])
    except Exception:  # noqa: BLE001 - a page too broken to parse simply names no feed
        return None
    if not finder.found:
        return None
    finder.found.sort(key=lambda f: FEED_TYPES.index(f[0]))
    return urljoin(urljoin(page_url, finder.base or ""), finder.found[0][1])


def feed_location(fetcher: "Fetcher", url: str, *, allow_private: bool = False) -> tuple[str, bool]:
    """(URL to poll, whether it was discovered) for a URL an admin gives (``/addsource``).

    A feed is polled as given; an HTML page that names a feed is replaced by that feed (checked
    with the same fetch policy); any other page is polled as a page. Fetch errors propagate.
    """
    from briefing.errors import ParseError
    from briefing.ingest.extract import charset_of, decode
    from briefing.ingest.update import looks_like_feed  # update imports this module

    result = fetcher.fetch(url, allow_private=allow_private)
    if looks_like_feed(result):
        return url, False
    try:
        found = discover_feed(decode(result.content, charset_of(result.headers.get("content-type"))), result.url)
    except ParseError:
        return url, False
    if found is None:
        return url, False
    if looks_like_feed(fetcher.fetch(found, allow_private=allow_private)):
        return found, True
    return url, False
