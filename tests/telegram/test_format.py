"""Telegram HTML: escaping and splitting, checked with the fake server's Telegram-like parser."""

from __future__ import annotations

import random

from briefing.deliver.telegram.format import brief_html, link, split_html, utf16_len
from briefing.models import Actor, Brief
from tests.support.botapi import parse_html


def test_every_piece_of_text_is_escaped_and_links_are_ours_only() -> None:
    evil = '</b><a href="http://x">y</a>&amp;<tg-spoiler>'
    brief = Brief(headline=evil, summary=[evil], actors=[Actor(evil, evil, evil, evil)], engine="e",
                  topics=[evil], source=evil, url="https://ok.example/?q=<x>")
    html = brief_html(brief)
    text = parse_html(html)
    assert text.count(evil) == 6  # headline, summary, actor name, position, topic, source: all text
    assert html.count("<a ") == 1 and 'href="https://ok.example/?q=&lt;x&gt;"' in html
    assert link("javascript:alert(1)", "x") == "x" and link("tg://resolve?domain=a", "y") == "y"


def test_split_keeps_every_message_valid_and_within_the_limit() -> None:
    rng = random.Random(4)
    words = ["harbour", "<b>bold words here</b>", "&amp;", "<i>tilted</i>", "😀", "a" * 50,
             '<a href="https://e.example/">link text</a>', "\n", "\n\n"]
    for _ in range(30):
        html = " ".join(rng.choice(words) for _ in range(rng.randint(200, 3000)))
        limit = rng.choice([100, 500, 4096])
        chunks = split_html(html, limit)
        assert all(utf16_len(c) <= limit for c in chunks)
        texts = [parse_html(c) for c in chunks]  # raises on a broken tag or entity
        # Nothing lost or added (a word longer than half a message may be cut inside).
        assert "".join("".join(texts).split()) == "".join(parse_html(html).split())


def test_short_text_is_one_message_and_paragraphs_are_not_cut_needlessly() -> None:
    assert split_html("<b>hi</b>") == ["<b>hi</b>"]
    paras = ["p" * 3000, "q" * 3000]
    assert split_html("\n\n".join(paras)) == paras
