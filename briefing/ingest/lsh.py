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

import heapq
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import numpy as np

from briefing.ingest.dedup import NUM_PERM

ROWS = 2
BANDS = NUM_PERM // ROWS

Loader = Callable[[int, datetime], list[tuple[int, list[int], datetime]]]  # (after id, since) -> rows


_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant: mixes the two values of a band
_SALT = (np.arange(BANDS, dtype=np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F))[None, :]


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """One 64-bit key per band of each signature (rows of ``signatures``): shape (n, BANDS).

    Equal bands give equal keys; unequal bands rarely collide, and a collision only adds a
    candidate that the full comparison rejects.
    """
    with np.errstate(over="ignore"):  # wrap-around multiplication is the point
        return (signatures[:, 0::2] * _MIX) ^ signatures[:, 1::2] ^ _SALT


class NearDuplicateIndex:
    """Original articles of the last ``window``, findable by LSH band."""

    def __init__(self, load: Loader, window: timedelta) -> None:
        self._load = load
        self.window = window
        # Band keys in two parts: sorted arrays (searched with searchsorted, rebuilt in bulk) and
        # a small dict of what was added since the last rebuild.
        self._sorted_keys = np.empty(0, dtype=np.uint64)
        self._sorted_ids = np.empty(0, dtype=np.int64)
        self._recent: dict[int, list[int]] = {}
        self._recent_count = 0
        self._signatures: dict[int, np.ndarray] = {}
        self._expiry: list[tuple[datetime, int]] = []  # heap of (fetched_at, id)
        self._last_id = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._signatures)

    def refresh(self, now: datetime) -> None:
        """Take in what was stored since the last look; forget what left the window."""
        since = now - self.window
        rows = self._load(self._last_id, since)
        if rows:
            self._last_id = max(self._last_id, max(r[0] for r in rows))
            self._insert([r for r in rows if len(r[1]) == NUM_PERM and r[0] not in self._signatures])
        while self._expiry and self._expiry[0][0] < since:
            self._remove(heapq.heappop(self._expiry)[1])

    def _insert(self, rows: Sequence[tuple[int, list[int], datetime]]) -> None:
        if not rows:
            return
        signatures = np.array([fp for _, fp, _ in rows], dtype=np.uint64)
        keys = band_keys(signatures)
        for (article_id, _, fetched_at), signature in zip(rows, signatures):
            self._signatures[article_id] = signature
            heapq.heappush(self._expiry, (fetched_at, article_id))
        if len(rows) > 64:  # a bulk load (the first look): straight into the sorted arrays
            ids = np.repeat(np.array([r[0] for r in rows], dtype=np.int64), BANDS)
            self._rebuild(keys.ravel(), ids)
            return
        for (article_id, _, _), row_keys in zip(rows, keys.tolist()):
            for key in row_keys:
                self._recent.setdefault(key, []).append(article_id)
        self._recent_count += len(rows)
        if self._recent_count * 4 > len(self._sorted_ids) // BANDS + 256:
            self._rebuild(np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64))

    def _rebuild(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Merge new and recent keys into the sorted arrays, dropping articles that expired."""
        recent_keys = np.array([k for k, v in self._recent.items() for _ in v], dtype=np.uint64)
        recent_ids = np.array([i for v in self._recent.values() for i in v], dtype=np.int64)
        all_keys = np.concatenate([self._sorted_keys, recent_keys, keys])
        all_ids = np.concatenate([self._sorted_ids, recent_ids, ids])
        live = np.isin(all_ids, np.fromiter(self._signatures, dtype=np.int64, count=len(self._signatures)))
        all_keys, all_ids = all_keys[live], all_ids[live]
        order = np.argsort(all_keys, kind="stable")
        self._sorted_keys, self._sorted_ids = all_keys[order], all_ids[order]
        self._recent.clear()
        self._recent_count = 0

    def _remove(self, article_id: int) -> None:
        # Its keys stay until the next rebuild; candidates are checked against the live signatures.
        self._signatures.pop(article_id, None)

    def _candidates(self, keys: list[int]) -> list[int]:
        wanted = np.array(keys, dtype=np.uint64)
        lo = np.searchsorted(self._sorted_keys, wanted, side="left")
        hi = np.searchsorted(self._sorted_keys, wanted, side="right")
        found = {int(i) for a, b in zip(lo.tolist(), hi.tolist()) if b > a for i in self._sorted_ids[a:b]}
        found.update(i for key in keys for i in self._recent.get(key, ()))
        return sorted(i for i in found if i in self._signatures)

    def best_match(self, fp: list[int], threshold: float, now: datetime) -> int | None:
        """The most similar original at or above ``threshold`` (the oldest on a tie), or None."""
        if len(fp) != NUM_PERM:
            return None
        with self._lock:
            self.refresh(now)
            mine = np.array(fp, dtype=np.uint64)
            candidates = self._candidates(band_keys(mine[None, :])[0].tolist())
            if not candidates:
                return None
            scores = [(float(np.count_nonzero(self._signatures[i] == mine)) / NUM_PERM, i) for i in candidates]
        best_score, best_id = max(scores, key=lambda s: (s[0], -s[1]))
        return best_id if best_score >= threshold else None
