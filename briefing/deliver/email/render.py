"""Rendering a digest as email: HTML and plain text, and the MIME message.

HTML comes from Jinja2 templates shipped in this package with autoescape on, so article text
can never become markup; links are only ever the stored http(s) URL of an article. The HTML
has no images at all (nothing remote to load or track) and its CSS is inlined
(:mod:`briefing.deliver.email.inline`). The plain-text part carries the same stories, in the
same order, with the same actors and links.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from briefing.deliver.email.inline import inline_css
from briefing.digest import DigestContent, numbered, story_view, subject_for, zone


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class Unsubscribe:
    """Where a reader unsubscribes: an HTTPS one-click URL and a mailto (RFC 2369, RFC 8058)."""

    url: str
    mailto: str


@lru_cache(maxsize=1)
def _env() -> Environment:
    # Autoescape every .html template; the .txt templates are plain text and must stay raw.
    return Environment(loader=PackageLoader("briefing.deliver.email", "templates"),
                       autoescape=lambda name: bool(name and name.endswith(".html")),
                       undefined=StrictUndefined, trim_blocks=False, keep_trailing_newline=True)


def _context(content: DigestContent, recipient: str, unsubscribe_url: str | None, tz: ZoneInfo) -> dict[str, object]:
    sections = [{"label": label, "stories": [story_view(item, number, tz) for number, item in items]}
                for label, items in numbered(content)]
    n = len(content.items)
    count_text = f"{n} {'story' if n == 1 else 'stories'} since {content.period_start.astimezone(tz):%a %H:%M %Z}"
    top = content.items[0].brief.headline if content.items else "No new stories today"
    return {
        "subject": subject_for(content), "date_long": f"{content.digest_date:%A %-d %B %Y}",
        "count_text": count_text, "greeting": f"for {content.subscriber_name}" if content.subscriber_name else "",
        "preheader": top, "sections": sections, "omitted": content.omitted,
        "recipient": recipient, "unsubscribe_url": unsubscribe_url,
    }


def render_digest(content: DigestContent, *, recipient: str, unsubscribe_url: str | None,
                  tz: ZoneInfo | None = None) -> RenderedDigest:
    """The subject, inlined HTML and plain text of one digest (local times in ``tz``, by default
    the subscriber's zone the content carries)."""
    ctx = _context(content, recipient, unsubscribe_url, tz or zone(content.timezone))
    html = inline_css(_env().get_template("digest.html").render(ctx))
    text = _env().get_template("digest.txt").render(ctx)
    return RenderedDigest(subject=str(ctx["subject"]), html=html, text=text)


def render_code(code: str, ttl_minutes: float) -> str:
    return _env().get_template("code.txt").render(code=code, ttl_minutes=f"{ttl_minutes:g}")


def msgid_domain(address: str) -> str:
    """The domain for Message-IDs (RFC 5322 section 3.6.4): the From address's domain."""
    return (parseaddr(address)[1] or address).rpartition("@")[2] or "localhost"


def build_message(*, subject: str, text: str, html: str | None, sender: str, to: str,
                  message_id: str, date: datetime, unsubscribe: Unsubscribe | None = None) -> EmailMessage:
    """A standards-conforming message (RFC 5322 headers; multipart/alternative when ``html``).

    With ``unsubscribe`` it carries ``List-Unsubscribe`` (RFC 2369) with both a mailto and the
    HTTPS URL, and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), which lets
    mail providers show an unsubscribe button that POSTs to the URL.
    """
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    # RFC 3834: an automatic message; vacation responders must not answer it.
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe is not None:
        msg["List-Unsubscribe"] = _ListUnsubscribe(unsubscribe.mailto, unsubscribe.url)
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


class _ListUnsubscribe(str):
    """The ``List-Unsubscribe`` value, folded between its two URIs and never RFC 2047-encoded.

    The email package refolds a header to 78 columns and, when one URI is longer than that (a
    signed token makes it so), encodes it as ``=?utf-8?q?=3Cmailto...?=``, which no mail client
    reads as a mailto (issue 8, row 6). RFC 2369 URIs are ASCII in angle brackets; a line up to
    998 characters is valid (RFC 5322 section 2.1.1), so the value is folded here instead.
    ``name`` and ``fold`` make :class:`email.policy.EmailPolicy` store and emit it as it is.
    """

    name = "List-Unsubscribe"

    def __new__(cls, mailto: str, url: str) -> "_ListUnsubscribe":
        value = super().__new__(cls, f"<{mailto}>, <{url}>")
        value.parts = (f"<{mailto}>,", f"<{url}>")  # type: ignore[attr-defined]
        return value

    def fold(self, *, policy: Any) -> str:
        first, second = self.parts  # type: ignore[attr-defined]
        return f"{self.name}: {first}{policy.linesep} {second}{policy.linesep}"


def unsubscribe_mailto(address: str, subscriber_id: int, token: str) -> str:
    """mailto: URI (RFC 6068) whose subject identifies the subscriber for whoever reads that box."""
    addr_spec = parseaddr(address)[1] or address  # "Name <a@b>" -> "a@b"
    return f"mailto:{addr_spec}?subject={quote(f'unsubscribe {subscriber_id} {token}')}"
