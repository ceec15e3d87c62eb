"""A tiny CSS inliner for our own templates (no dependency, no network, no remote stylesheets).

Many mail clients (Gmail's apps, Outlook) drop or ignore ``<style>`` blocks, so every rule a
reader must see is copied into ``style=""`` attributes. Templates put those rules in
``<style data-inline>`` using single-class selectors only (``.card { ... }``); the block is
removed after inlining. Any other ``<style>`` block (the dark-mode media query) is kept for the
clients that honour it, and the ``class`` attributes stay so its selectors still match.

Regexes are enough here because the input is our own autoescaped template output: article
text can never form a tag (``<``, ``>`` and ``"`` are entities), and our attribute values
never contain a double quote.
"""

from __future__ import annotations

import re

_INLINE_BLOCK = re.compile(r"<style data-inline>(.*?)</style>\s*", re.S)
_RULE = re.compile(r"\.([A-Za-z][\w-]*)\s*\{([^{}]*)\}")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9]*)(\s[^<>]*?)?(\s*/?)>")
_CLASS = re.compile(r'\sclass="([^"]*)"')
_STYLE = re.compile(r'\sstyle="([^"]*)"')


def parse_rules(css: str) -> dict[str, str]:
    """``.name { a: b; c: d }`` rules -> {"name": "a: b; c: d;"}; later rules extend earlier ones."""
    rules: dict[str, str] = {}
    for name, body in _RULE.findall(_COMMENT.sub("", css)):
        for decl in body.split(";"):
            prop, _, value = decl.partition(":")
            if prop.strip() and value.strip():
                rules[name] = rules.get(name, "") + f"{prop.strip()}:{' '.join(value.split())};"
    return rules


def inline_css(html: str) -> str:
    """Move the ``<style data-inline>`` rules into the ``style`` attribute of each classed tag.

    A tag's own ``style`` comes last, so it wins over class rules, as in a browser.
    """
    blocks = _INLINE_BLOCK.findall(html)
    if not blocks:
        return html
    rules = parse_rules("\n".join(blocks))
    html = _INLINE_BLOCK.sub("", html)

    def one_tag(m: re.Match[str]) -> str:
        attrs = m.group(2) or ""
        cls = _CLASS.search(attrs)
        if not cls:
            return m.group(0)
        styles = "".join(rules.get(name, "") for name in cls.group(1).split())
        if not styles:
            return m.group(0)
        own = _STYLE.search(attrs)
        if own:
            attrs = _STYLE.sub("", attrs)
            styles += own.group(1)
        return f'<{m.group(1)}{attrs} style="{styles}"{m.group(3)}>'

    return _TAG.sub(one_tag, html)
