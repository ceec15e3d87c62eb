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


def fingerprint(text: str) -> list[int]:
    """MinHash signature of ``text`` (``NUM_PERM`` integers)."""
    shingles = _shingles(text)
    return [min((a * s + b) % _MASK for s in shingles) for a, b in _PERMS]


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of two signatures, 0..1."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(x == y for x, y in zip(a, b)) / len(a)
