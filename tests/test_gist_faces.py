"""The gist in every face: first, marked as machine-written, the key facts below it; stored and read back."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from briefing.deliver.email.render import render_digest
from briefing.deliver.telegram.digest import telegram_digest
from briefing.deliver.telegram.format import brief_html, html_to_text
from briefing.models import Actor, ArticleDraft, Brief
from briefing.digest import DigestContent, DigestItem, DigestSection
from briefing.cli.render import brief_markdown, brief_text
from briefing.store import Store

GIST = "Valmere's council approved a £40m flood barrier after the river hit a record <level>."


def _brief(gist: str = GIST) -> Brief:
    return Brief(headline="Valmere approves flood barrier", summary=["The council voted 9-2 on Monday.",
                                                                      "Work starts in May."],
                 actors=[Actor("Ines Moreau", "Mayor", "backs the barrier", "Moreau said she backs it.")],
                 engine="extractive", gist=gist, url="https://news.example/1",
                 published=datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc))


def _order(text: str) -> None:
    assert text.index("In short (machine-written)") < text.index("Key facts") < text.index("The council voted")


def test_telegram_cli_and_markdown_show_the_gist_first_and_marked() -> None:
    telegram = brief_html(_brief())
    assert "&lt;level&gt;" in telegram  # model text is escaped like any other text
    _order(html_to_text(telegram))
    _order(brief_text(_brief()))
    _order(brief_markdown(_brief()))


def test_a_brief_without_gist_looks_as_before() -> None:
    for text in (html_to_text(brief_html(_brief(""))), brief_text(_brief("")), brief_markdown(_brief(""))):
        assert "machine-written" not in text and "Key facts" not in text


def test_digest_email_and_telegram_show_the_gist_first() -> None:
    item = DigestItem(1, _brief(), 1, (), 2.0, 1.0)
    content = DigestContent(date(2026, 11, 27), datetime(2026, 11, 26, tzinfo=timezone.utc),
                            datetime(2026, 11, 27, tzinfo=timezone.utc), (DigestSection("world", (item,)),))
    tz = ZoneInfo("UTC")
    rendered = render_digest(content, recipient="a@example.org", unsubscribe_url=None, tz=tz)
    for text in (rendered.text, html_to_text(rendered.html), html_to_text("\n".join(telegram_digest(content, tz)))):
        assert text.index("In short (machine-written)") < text.index("The council voted")
    assert "&lt;level&gt;" in rendered.html


def test_the_gist_is_stored_and_read_back(sqlite_store: Store) -> None:
    store = sqlite_store  # opened through the migrations, 0004_gist included
    article = store.add_article(ArticleDraft(url="https://news.example/1", title="t", text="x " * 50),
                                source_name=None, fingerprint=[])
    assert article is not None
    brief_id = store.save_brief(article.id, _brief(), "key")
    back = store.get_brief(brief_id)
    assert back is not None and back.gist == GIST
    assert Brief.from_dict(_brief().to_dict()).gist == GIST
