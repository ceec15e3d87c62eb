"""Duplicates: canonical URLs, exact text, and near-duplicates (edited re-publications)."""

from __future__ import annotations

import pytest

from briefing.config import Config
from briefing.ingest import Fetcher, Ingester
from briefing.ingest.dedup import canonical_url, fingerprint, similarity
from briefing.ingest.update import NEAR_DUP_WINDOW
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


def test_the_lsh_index_decides_like_comparing_with_every_article(config: Config, sqlite_store: Store) -> None:
    """Copies at every edit level, and unrelated stories: the index and the full scan agree on each."""
    import random

    from briefing.store.schema import utcnow

    ing = Ingester(config, sqlite_store, Fetcher(config.ingest))
    rng = random.Random(7)
    originals = [article_text(f"story {i} about the {rng.choice(['port', 'tram', 'dam'])}", n=8) for i in range(60)]
    for i, text in enumerate(originals):
        assert ing.add(ArticleDraft(f"https://a.test/{i}", f"Story {i}", text)).status == "added"
    pool = [(i, fp) for i, fp, _ in sqlite_store.fingerprints_after(0, utcnow() - NEAR_DUP_WINDOW)]
    queries = []
    for text in originals[:30]:
        words = text.split()
        for step in (4, 6, 10, 30):  # heavier to lighter copy-edits: similarities around the threshold
            edited = list(words)
            for k in range(0, len(edited), step):
                edited[k] = "edited"
            queries.append(" ".join(edited))
    queries += [article_text(f"fresh story {i}", n=8) for i in range(20)]
    def full_scan(fp: list[int]) -> int | None:  # what the index replaced: compare with every article
        best_id, best = None, 0.0
        for article_id, other in pool:  # oldest first, so the oldest wins a tie
            if (score := similarity(fp, other)) > best:
                best_id, best = article_id, score
        return best_id if best >= config.ingest.near_duplicate_threshold else None

    found = 0
    for text in queries:
        fp = fingerprint(text)
        expected = full_scan(fp)
        assert ing.near_duplicate_of(fp) == expected
        found += expected is not None
    assert 30 <= found < len(queries) - 20  # both outcomes occur: the comparison means something


def test_the_index_sees_articles_another_process_stored(config: Config, sqlite_store: Store) -> None:
    mine = Ingester(config, sqlite_store, Fetcher(config.ingest))
    other = Ingester(config, Store.open(str(sqlite_store.engine.url)), Fetcher(config.ingest))
    assert mine.add(ArticleDraft("https://a.test/x", "X", article_text("the harbour", n=8))).status == "added"
    text = article_text("the ferry strike", n=8)
    assert other.add(ArticleDraft("https://b.test/y", "Y", text)).status == "added"
    assert mine.add(ArticleDraft("https://c.test/z", "Z", _republished(text))).status == "near-duplicate"
    other.store.close()


def test_the_index_forgets_articles_older_than_the_window_and_survives_rebuilds() -> None:
    from datetime import datetime, timedelta, timezone

    from briefing.ingest.lsh import NearDuplicateIndex

    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    texts = [article_text(f"story number {i}", n=6) for i in range(400)]
    stored: list[tuple[int, list[int], datetime]] = []

    def load(after: int, since: datetime) -> list[tuple[int, list[int], datetime]]:
        return [r for r in stored if r[0] > after and r[2] >= since]

    index = NearDuplicateIndex(load, timedelta(days=7))
    stored.extend((i + 1, fingerprint(t), start + timedelta(hours=i)) for i, t in enumerate(texts[:100]))
    assert index.best_match(fingerprint(_republished(texts[0])), 0.5, start + timedelta(days=1)) == 1  # bulk
    for i, text in enumerate(texts[100:], start=100):  # one at a time: recent keys, then rebuilds
        stored.append((i + 1, fingerprint(text), start + timedelta(hours=i)))
        if i % 7 == 0:
            assert index.best_match(fingerprint(_republished(text)), 0.5, start + timedelta(hours=i)) == i + 1
    late = start + timedelta(hours=399)
    assert index.best_match(fingerprint(_republished(texts[0])), 0.5, late) is None  # 16 days old: gone
    assert index.best_match(fingerprint(_republished(texts[300])), 0.5, late) == 301
    assert len(index) == sum(1 for r in stored if r[2] >= late - timedelta(days=7))
