"""Duplicate detection: canonical URLs, exact content hashes, near-duplicates.

Near-duplicates use MinHash over word 5-shingles: the estimated Jaccard
similarity of two articles' shingle sets. The threshold (``ingest.near_duplicate_threshold``,
default 0.5) is measured in ``docs/dedup.md``: re-publications with small edits score
0.52-0.97, different articles score at most 0.02.
"""

from __future__ import annotations

import hashlib
import re
import struct
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

NUM_PERM = 64
SHINGLE = 5
_MASK = (1 << 61) - 1  # Mersenne prime for the universal hash family
_PERMS = [
    (int.from_bytes(hashlib.blake2b(f"a{i}".encode(), digest_size=8).digest(), "big") % _MASK | 1,
     int.from_bytes(hashlib.blake2b(f"b{i}".encode(), digest_size=8).digest(), "big") % _MASK)
    for i in range(NUM_PERM)
]

_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|yclid|_ga|ref|ref_src|"
                       r"cmpid|ocid|smid|share|s_cid|at_medium|at_campaign)$", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "file":
        return urlunsplit((scheme, "", parts.path, "", ""))
    host = (parts.hostname or "").lower()
    if parts.port and not ((scheme == "http" and parts.port == 80) or (scheme == "https" and parts.port == 443)):
        host = f"{host}:{parts.port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))


def _shingles(text: str) -> set[int]:
    words = re.findall(r"\w+", text.casefold())
    if len(words) < SHINGLE:
        words = words + [""] * (SHINGLE - len(words))
    out = set()
    for i in range(len(words) - SHINGLE + 1):
        digest = hashlib.blake2b(" ".join(words[i:i + SHINGLE]).encode(), digest_size=8).digest()
        out.add(struct.unpack(">Q", digest)[0])
    return out


_A = np.array([a for a, _ in _PERMS], dtype=np.uint64)[:, None]
_B = np.array([b for _, b in _PERMS], dtype=np.uint64)[:, None]
_P = np.uint64(_MASK)


def _mod_p(x: np.ndarray) -> np.ndarray:
    """x mod (2**61 - 1) for x < 2**64, by the Mersenne identity 2**61 = 1 (mod p)."""
    x = (x & _P) + (x >> np.uint64(61))
    return np.where(x >= _P, x - _P, x)


def _mulmod(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(a * s) mod (2**61 - 1) for a, s < 2**61, exactly, in 64-bit lanes.

    Split both into 31-bit halves; the cross terms are folded with 2**61 = 1 and 2**62 = 2, so no
    partial product overflows 64 bits.
    """
    m31 = np.uint64((1 << 31) - 1)
    a1, a0 = a >> np.uint64(31), a & m31
    s1, s0 = s >> np.uint64(31), s & m31
    mid = a1 * s0 + a0 * s1  # < 2**61
    hi = (a1 * s1) << np.uint64(1)  # a1*s1*2**62 = 2*a1*s1 (mod p); < 2**61
    mid_hi, mid_lo = mid >> np.uint64(30), mid & np.uint64((1 << 30) - 1)  # mid*2**31 = mid_hi + mid_lo*2**31
    return _mod_p(_mod_p(hi + mid_hi + (mid_lo << np.uint64(31))) + _mod_p(a0 * s0))


def fingerprint(text: str) -> list[int]:
    """MinHash signature of ``text`` (``NUM_PERM`` integers): min over shingles of (a*s + b) mod p.

    Vectorised with numpy over all permutations and shingles at once; the values are exactly
    those of the plain-Python formula, so stored fingerprints stay comparable.
    """
    shingles = np.fromiter(_shingles(text), dtype=np.uint64)
    hashed = _mod_p(_mulmod(_A, _mod_p(shingles)[None, :]) + _B)
    return [int(v) for v in hashed.min(axis=1)]


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of two signatures, 0..1."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(x == y for x, y in zip(a, b)) / len(a)
