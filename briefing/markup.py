"""Escaping for the HTML subset Telegram reads (and the stories' notices are written in), and
links only to http(s) URLs: a feed can hand us ``javascript:`` or ``data:`` ones."""

from __future__ import annotations

import html
from urllib.parse import urlsplit


def esc(text: object) -> str:
    """Escape any text for Telegram HTML (quotes too, so it is safe inside attributes)."""
    return html.escape(str(text), quote=True)


def link(url: str | None, label: str = "Source") -> str:
    """An ``<a>`` to an http(s) URL, or just the escaped label when the URL is anything else."""
    if not url or urlsplit(url).scheme.lower() not in ("http", "https"):
        return esc(label)
    return f'<a href="{esc(url)}">{esc(label)}</a>'
