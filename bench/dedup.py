"""MinHash similarity of edited copies vs different articles: the data behind docs/dedup.md.

Usage: python bench/dedup.py ../shared/eval/dev.jsonl
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from itertools import combinations

from briefing.ingest.dedup import fingerprint, similarity


def edit(text: str, kind: str) -> str:
    paras = [p for p in re.split(r"\n+", text) if p.strip()]
    sents = re.split(r"(?<=[.!?])\s+", text)
    if kind == "drop last paragraph":
        return "\n".join(paras[:-1]) if len(paras) > 2 else " ".join(sents[:-2])
    words = text.split() if kind != "rewrite" else edit(text, "drop last paragraph").split()
    if kind == "new first sentence":
        return "UPDATED: officials gave new details on Tuesday. " + text
    step = 30 if kind == "1 word in 30 changed" else 10
    for i in range(0, len(words), step):
        words[i] = "edited"
    return " ".join(words)


def main(path: str) -> None:
    articles = [json.loads(line)["article"] for line in open(path, encoding="utf-8") if line.strip()]
    fps = [fingerprint(a) for a in articles]
    print(f"{'pair':32} {'min':>6} {'median':>7} {'max':>6}")
    for kind in ("drop last paragraph", "1 word in 30 changed", "new first sentence", "rewrite"):
        sims = [similarity(fps[i], fingerprint(edit(a, kind))) for i, a in enumerate(articles)]
        print(f"{kind:32} {min(sims):6.2f} {statistics.median(sims):7.2f} {max(sims):6.2f}")
    diff = [similarity(fps[i], fps[j]) for i, j in combinations(range(len(articles)), 2)]
    print(f"{'different articles':32} {min(diff):6.2f} {statistics.median(diff):7.2f} {max(diff):6.2f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/eval/dev.jsonl")
