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
from briefing.summarise.claims import ClaimChecker  # noqa: E402
from briefing.summarise.gist import GIST_MAX_WORDS, POSITION_MAX_WORDS, POSITION_MIN_COVERAGE  # noqa: E402
from briefing.summarise.nlp import load_spacy  # noqa: E402


def scores(rows: list[dict], key: str) -> dict[str, float | int]:
    kept = [r for r in rows if r[key]]
    good = [r for r in rows if r["supported"]]
    bad = [r for r in rows if not r["supported"]]
    return {"n": len(rows), "kept": len(kept),
            "precision": round(100 * sum(r["supported"] for r in kept) / len(kept), 1) if kept else None,
            "recall": round(100 * sum(r[key] for r in good) / len(good), 1) if good else None,
            "unsupported_caught": f"{sum(not r[key] for r in bad)}/{len(bad)}"}


THRESHOLDS = [round(0.05 * i, 2) for i in range(21)]
MIN_RECALL = 70.0  # "while it keeps most faithful paraphrases": the threshold may not drop more than 30%


MARGINS = [round(0.5 * i, 1) for i in range(-8, 13)]  # logit margins of yes over no


def _kept(row: dict, setting: tuple[float, float | None]) -> bool:
    """Kept by the rules, then (a gist) the coverage threshold, then the judge's margin when measured."""
    coverage, margin = setting
    if not row["rules"]:
        return False
    if not row.get("actor") and row["coverage"] < coverage:  # a position has its own fixed minimum
        return False
    return margin is None or row["margin"] >= margin


def _pick(rows: list[dict], margins: bool) -> tuple[float, float | None]:
    """The setting with the best precision among those keeping >= MIN_RECALL% of supported sentences."""
    best: tuple[float, float, float, float] = (-1.0, -1.0, 0.0, 0.0)
    for t in THRESHOLDS:
        for m in (MARGINS if margins else [None]):
            for r in rows:
                r["t"] = _kept(r, (t, m))
            sc = scores(rows, "t")
            if sc["recall"] is not None and sc["recall"] >= MIN_RECALL and sc["precision"] is not None:
                # ties: the loosest setting (lowest thresholds)
                best = max(best, (sc["precision"], sc["recall"], -t, -(m if m is not None else 0.0)))
    return -best[2], (-best[3] if margins else None)


def crossval(rows: list[dict], k: int, margins: bool) -> dict:
    """Setting chosen on k-1 folds (sentences of one article stay in one fold), scored on the held-out one."""
    import statistics

    ids = sorted({r["id"] for r in rows})
    fold_of = {a: i % k for i, a in enumerate(ids)}
    held, picked = [], []
    for i in range(k):
        train = [r for r in rows if fold_of[r["id"]] != i]
        test = [r for r in rows if fold_of[r["id"]] == i]
        setting = _pick(train, margins)
        picked.append(setting)
        for r in test:
            r["t"] = _kept(r, setting)
        held.append(scores(test, "t"))
    for r in rows:  # each row judged with the setting picked without its fold
        r["t"] = _kept(r, picked[fold_of[r["id"]]])
    prec = [h["precision"] for h in held if h["precision"] is not None]
    rec = [h["recall"] for h in held if h["recall"] is not None]
    return {"folds": k, "objective": f"best precision with recall >= {MIN_RECALL:g}% on the training folds",
            "picked per fold (coverage, margin)": picked,
            "held-out precision mean ± sd": f"{statistics.mean(prec):.1f} ± {statistics.stdev(prec):.1f}"
            if len(prec) > 1 else prec,
            "held-out recall mean ± sd": f"{statistics.mean(rec):.1f} ± {statistics.stdev(rec):.1f}"
            if len(rec) > 1 else rec,
            "held-out pooled": scores(rows, "t"),
            "picked on all labels (the shipped value)": _pick(rows, margins)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labels", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", help="also ask this model the entailment question")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--reuse", type=Path, nargs="*", help="earlier --out files: their margins are not asked again")
    ap.add_argument("--folds", type=int, default=5, help="folds (by article) to choose the coverage threshold")
    args = ap.parse_args()
    articles = {e.id: clean_article(e.article, title="")[1] for e in load_examples(args.data)}
    labels = [json.loads(line) for line in args.labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels.sort(key=lambda lab: lab["id"])  # sentences about one article together: its prefix is read once
    checker = ClaimChecker(load_spacy())
    abstractor = None
    if args.model:
        from briefing.summarise.gist_engine import build_abstractor

        abstractor = build_abstractor(SummariserConfig(gist=True, gist_model=args.model, threads=args.threads,
                                                       gist_entailment=True), load_spacy())
    known = {}
    for path in args.reuse or []:
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line) if line.strip() else {}
            if "margin" in r:
                known[(r["id"], r.get("actor", ""), r["sentence"])] = r["margin"]
    rows, sources = [], {}
    start = time.perf_counter()
    for lab in labels:
        text = articles[lab["id"]]
        if lab["id"] not in sources:
            sources[lab["id"]] = checker.source(text)
        claim, source, limit, minimum = lab["sentence"], sources[lab["id"]], GIST_MAX_WORDS, None
        if lab.get("actor"):  # a condensed position: checked as the product checks it (Abstractor.write_positions)
            pos = lab["sentence"]
            claim = f"{lab['actor']} {pos[:1].lower()}{pos[1:]}"
            limit, minimum = POSITION_MAX_WORDS + len(lab["actor"].split()), POSITION_MIN_COVERAGE
            if lab.get("evidence"):
                source = checker.source(f"{lab['actor']}: {lab['evidence']}")
        # The product's guard: the length limit, then the rule checks (then the model).
        reason = (f"longer than {limit} words" if len(claim.split()) > limit else checker.check(claim, source, minimum))
        row = {**lab, "rule_reason": reason, "rules": reason is None,
               "coverage": round(checker.coverage(checker.nlp(claim), source), 3)}
        key = (lab["id"], lab.get("actor", ""), lab["sentence"])
        if key in known:  # measured by an earlier run (--reuse): the model is deterministic
            row["margin"] = known[key]
        elif abstractor is not None:
            row["margin"] = round(abstractor.stated_margin(claim, source), 3)
        rows.append(row)
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = {"labels": str(args.labels), "model": args.model, "seconds": round(time.perf_counter() - start),
              "load_avg": os.getloadavg()[0], "rules": scores(rows, "rules")}
    result["coverage threshold, cross-validated"] = crossval(rows, args.folds, margins=False)
    if all("margin" in r for r in rows):
        for r in rows:
            r["yes"] = r["margin"] > 0
            r["rules+yes"] = r["rules"] and r["yes"]
        result["rules + the model's plain yes (margin > 0)"] = scores(rows, "rules+yes")
        result["the model's plain yes alone"] = scores(rows, "yes")
        result["coverage and margin thresholds, cross-validated"] = crossval(rows, args.folds, margins=True)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
