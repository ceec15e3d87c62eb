"""Near-duplicate lookup through locality-sensitive hashing of MinHash signatures.

The 64 MinHash values of a signature are cut into ``BANDS`` bands of ``ROWS`` values; two
articles become candidates when any band is equal, and every candidate is then compared on the
whole signature with the calibrated threshold (``ingest.near_duplicate_threshold``, see
``docs/dedup.md``), so the decisions are those of comparing against every article, only cheaper.

Bands of 2 rows: a pair with Jaccard similarity s shares a band with probability
1 - (1 - s**2)**32, which is 0.9999 at s = 0.5 (the threshold) and 0.996 at s = 0.4, so the
index misses essentially no pair the full scan would catch; different articles (s <= 0.02)
collide in 1.3% of pairs, and those are rejected by the full comparison.

The index lives in memory and follows the database: on each lookup it reads the articles stored
since its last look (by id, an indexed range), so articles added by another process (a CLI
``ingest`` beside the service) are seen too; articles older than the window drop out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import numpy as np

from briefing.ingest.dedup import NUM_PERM

ROWS = 2
BANDS = NUM_PERM // ROWS

Loader = Callable[[int, datetime], list[tuple[int, list[int], datetime]]]  # (after id, since) -> rows


def band_keys(fp: list[int]) -> list[tuple[int, int, int]]:
    """(band number, first value, second value) of each band of a signature."""
    return [(b, fp[b * ROWS], fp[b * ROWS + 1]) for b in range(BANDS)]


class NearDuplicateIndex:
    """Original articles of the last ``window``, findable by LSH band."""

    def __init__(self, load: Loader, window: timedelta) -> None:
        self._load = load
        self.window = window
        self._buckets: dict[tuple[int, int, int], list[int]] = {}
        self._signatures: dict[int, np.ndarray] = {}
        self._fetched: dict[int, datetime] = {}
        self._last_id = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._signatures)

    def refresh(self, now: datetime) -> None:
        """Take in what was stored since the last look; forget what left the window."""
        since = now - self.window
        for article_id, fp, fetched_at in self._load(self._last_id, since):
            self._last_id = max(self._last_id, article_id)
            if len(fp) == NUM_PERM:
                self._insert(article_id, fp, fetched_at)
        expired = [i for i, t in self._fetched.items() if t < since]
        for article_id in expired:
            self._remove(article_id)

    def _insert(self, article_id: int, fp: list[int], fetched_at: datetime) -> None:
        if article_id in self._signatures:
            return
        self._signatures[article_id] = np.array(fp, dtype=np.uint64)
        self._fetched[article_id] = fetched_at
        for key in band_keys(fp):
            self._buckets.setdefault(key, []).append(article_id)

    def _remove(self, article_id: int) -> None:
        fp = self._signatures.pop(article_id, None)
        self._fetched.pop(article_id, None)
        if fp is None:
            return
        for key in band_keys([int(v) for v in fp]):
            ids = self._buckets.get(key)
            if ids is not None:
                ids.remove(article_id)
                if not ids:
                    del self._buckets[key]

    def best_match(self, fp: list[int], threshold: float, now: datetime) -> int | None:
        """The most similar original at or above ``threshold`` (the oldest on a tie), or None."""
        if len(fp) != NUM_PERM:
            return None
        with self._lock:
            self.refresh(now)
            candidates = sorted({i for key in band_keys(fp) for i in self._buckets.get(key, ())})
            if not candidates:
                return None
            mine = np.array(fp, dtype=np.uint64)
            scores = [(float(np.count_nonzero(self._signatures[i] == mine)) / NUM_PERM, i) for i in candidates]
        best_score, best_id = max(scores, key=lambda s: (s[0], -s[1]))
        return best_id if best_score >= threshold else None
