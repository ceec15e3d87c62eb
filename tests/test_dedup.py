"""Duplicates: canonical URLs, exact text, and near-duplicates (edited re-publications)."""

from __future__ import annotations

import pytest

from briefing.config import Config
from briefing.ingest import Fetcher, Ingester
from briefing.ingest.dedup import canonical_url, fingerprint, similarity
from briefing.models import ArticleDraft
from briefing.store import Store
from tests.builders import article_text


@pytest.mark.parametrize("url, expected", [
    ("HTTPS://News.Example.COM:443/a/b?utm_source=x&id=7&fbclid=abc#comments",
     "https://news.example.com/a/b?id=7"),
    ("http://example.com:8080/p?b=2&a=1", "http://example.com:8080/p?a=1&b=2"),
    ("http://example.com", "http://example.com/"),
    ("file:///srv/news/a.txt#x", "file:///srv/news/a.txt"),
])
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def _republished(text: str) -> str:
    """A re-publication with copy-edits: a sentence added, a few words changed, the end trimmed."""
    paras = text.split("\n\n")
    paras[0] = "UPDATED: " + paras[0].replace("Monday", "Tuesday")
    return "\n\n".join(paras[:-1])


def test_near_duplicate_is_folded_into_the_original(config: Config, sqlite_store: Store) -> None:
    ing = Ingester(config, sqlite_store, Fetcher(config.ingest))
    original = article_text("the new tram line", n=8)
    first = ing.add(ArticleDraft("https://a.test/tram", "Tram line approved", original))
    copy = ing.add(ArticleDraft("https://b.test/news/tram", "Tram line gets green light", _republished(original)))
    other = ing.add(ArticleDraft("https://b.test/news/port", "Port", article_text("the port expansion", n=8)))
    exact = ing.add(ArticleDraft("https://c.test/tram?x=1", "Tram", original))
    assert first.status == "added" and other.status == "added"
    assert copy.status == "near-duplicate"
    assert exact.status == "duplicate" and exact.article_id is None
    # The near-duplicate is kept (it counts as coverage) but gets no brief of its own.
    assert [a.title for a in sqlite_store.pending_articles()] == ["Tram line approved", "Port"]
    assert sqlite_store.duplicate_counts([first.article_id]) == {first.article_id: 1}


def test_similarity_separates_copies_from_different_stories() -> None:
    a = article_text("the harbour strike", n=8)
    assert similarity(fingerprint(a), fingerprint(_republished(a))) >= 0.5
    assert similarity(fingerprint(a), fingerprint(article_text("a flood barrier", n=8))) < 0.1
