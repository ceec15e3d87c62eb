"""The claim guard against hand labels: precision and recall of what it keeps.

    python bench/guard_labels.py --labels docs/guard-labels.jsonl --data ../shared/eval/dev.jsonl \\
        [--model embedded:qwen2.5-coder-1.5b-instruct]

``docs/guard-labels.jsonl`` holds model-written sentences about dev-set articles, each labelled by
hand (reading the article) as supported or not: ``{"id", "sentence", "supported": bool, "note"}``.
For each sentence the rule checks run (``ClaimChecker``), and with ``--model`` the entailment
question too (the article as prefix, answer constrained to yes/no). Printed for "rules" and
"rules + model": kept, precision (share of kept sentences that are supported: the target is
>= 95%), recall (share of supported sentences kept) and unsupported sentences caught.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from briefing.config import SummariserConfig  # noqa: E402
from briefing.ingest.clean import clean_article  # noqa: E402
from briefing.evaluation.evaluate import load_examples  # noqa: E402
from briefing.summarise.base import Document  # noqa: E402
from briefing.summarise.claims import ClaimChecker  # noqa: E402
from briefing.summarise.gist import GIST_MAX_WORDS  # noqa: E402
from briefing.summarise.nlp import load_spacy  # noqa: E402


def scores(rows: list[dict], key: str) -> dict[str, float | int]:
    kept = [r for r in rows if r[key]]
    good = [r for r in rows if r["supported"]]
    bad = [r for r in rows if not r["supported"]]
    return {"n": len(rows), "kept": len(kept),
            "precision": round(100 * sum(r["supported"] for r in kept) / len(kept), 1) if kept else None,
            "recall": round(100 * sum(r[key] for r in good) / len(good), 1) if good else None,
            "unsupported_caught": f"{sum(not r[key] for r in bad)}/{len(bad)}"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labels", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", help="also ask this model the entailment question")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    articles = {e.id: clean_article(e.article, title="")[1] for e in load_examples(args.data)}
    labels = [json.loads(line) for line in args.labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels.sort(key=lambda lab: lab["id"])  # sentences about one article together: its prefix is read once
    checker = ClaimChecker(load_spacy())
    abstractor = None
    if args.model:
        from briefing.summarise.gist_engine import build_abstractor

        abstractor = build_abstractor(SummariserConfig(gist=True, gist_model=args.model, threads=args.threads),
                                      load_spacy())
    rows, sources = [], {}
    start = time.perf_counter()
    for lab in labels:
        text = articles[lab["id"]]
        if lab["id"] not in sources:
            sources[lab["id"]] = checker.source(text)
        words = len(lab["sentence"].split())
        # The product's guard: the gist length limit, then the rule checks (then the model).
        reason = (f"longer than {GIST_MAX_WORDS} words" if words > GIST_MAX_WORDS
                  else checker.check(lab["sentence"], sources[lab["id"]]))
        row = {**lab, "rule_reason": reason, "rules": reason is None}
        if abstractor is not None:
            yes = abstractor.supported(Document(title="", text=text), lab["sentence"])
            row["model_yes"] = yes
            row["rules+model"] = row["rules"] and yes
        rows.append(row)
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = {"labels": str(args.labels), "model": args.model, "seconds": round(time.perf_counter() - start),
              "load_avg": os.getloadavg()[0], "rules": scores(rows, "rules")}
    if abstractor is not None:
        result["rules+model"] = scores(rows, "rules+model")
        result["model alone"] = scores(rows, "model_yes")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
