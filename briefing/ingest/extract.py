"""Turning fetched bytes or local files into (title, text) — full text, boilerplate removed."""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from pathlib import Path

import trafilatura
import yaml

from briefing.errors import EmptyContentError, ParseError
from briefing.ingest.clean import clean_article

ARTICLE_SUFFIXES = (".txt", ".md", ".html", ".htm")


def decode(data: bytes, declared: str | None = None) -> str:
    """Decode bytes strictly: a declared charset first, then UTF-8; no silent mojibake."""
    for enc in filter(None, (declared, "utf-8")):
        try:
            return data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    raise ParseError("text is not valid UTF-8 and declares no charset that decodes it")


def charset_of(content_type_header: str | None) -> str | None:
    m = re.search(r"charset=([\w.-]+)", content_type_header or "", re.IGNORECASE)
    return m.group(1) if m else None


def extract_html(html: str, url: str | None = None) -> tuple[str, str, datetime | None]:
    """Main text of an HTML page with trafilatura; raises EmptyContentError when there is none."""
    doc = trafilatura.bare_extraction(html, url=url, include_comments=False, include_tables=False,
                                      favor_precision=True, with_metadata=True)
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        raise EmptyContentError(f"{url or 'page'}: no article text found")
    title = getattr(doc, "title", None) or ""
    published = _parse_date(getattr(doc, "date", None))
    # trafilatura separates paragraphs with single newlines; we use blank lines.
    title, body = clean_article("\n\n".join(text.splitlines()), title or None)
    return title, body, published


def fragment_text(fragment: str) -> str:
    """Plain text of a feed's HTML summary: block tags become paragraph breaks, tags go, entities decode."""
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", fragment)
    text = re.sub(r"(?i)<\s*(br|/p|/div|/li|/h\d|/blockquote)\s*/?>", "\n\n", text)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip())


def _parse_date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


# Front matter holds a title and a date: a few hundred bytes. Anything much larger is not ours to parse.
MAX_FRONT_MATTER = 16_384


def _front_matter(text: str) -> tuple[dict[str, object], str]:
    """YAML front matter of a .md/.txt file, read without alias expansion (issue 8, row 2).

    ``yaml.safe_load`` expands aliases: 2.5 KB of nested ``&a [*b, *b, ...]`` becomes billions of
    nodes while holding the GIL. Anchors and aliases are refused before anything is built, and the
    block is size-limited; a refused block is treated as text-without-front-matter.
    """
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end < 0 or end > MAX_FRONT_MATTER:
        return {}, text
    block = text[4:end]
    try:
        for event in yaml.parse(block, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return {}, text[end + 4:].lstrip("\n")  # hostile or exotic: keep the body, drop the block
        meta = yaml.safe_load(block) or {}
    except yaml.YAMLError:
        return {}, text
    return (meta if isinstance(meta, dict) else {}), text[end + 4:].lstrip("\n")


def read_article_file(path: Path, data: bytes) -> tuple[str, str, datetime | None]:
    """(title, text, published) of a local .txt / .md / .html article."""
    text = decode(data)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return extract_html(text, path.resolve().as_uri())
    meta, text = _front_matter(text)
    title = str(meta["title"]) if meta.get("title") else None
    if suffix == ".md" and title is None:
        m = re.match(r"\s*#\s+(.+)\n", text)
        if m:
            title, text = m.group(1).strip(), text[m.end():]
    if suffix == ".md":
        text = re.sub(r"^#+\s*", "", text, flags=re.MULTILINE)  # sub-headings become paragraphs
        text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)  # links keep their words
        text = re.sub(r"(\*\*|__|\*|_)(\S.*?\S|\S)\1", r"\2", text)
    published = meta.get("published")
    pub = published if isinstance(published, datetime) else _parse_date(published)
    if pub is not None and pub.tzinfo is None:
        pub = pub.replace(tzinfo=timezone.utc)
    title, body = clean_article(text, title)
    if not body:
        raise EmptyContentError(f"{path}: no article text")
    return title or path.stem.replace("_", " "), body, pub
