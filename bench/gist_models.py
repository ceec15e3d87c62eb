"""Compare offline gist models on the development set: the product's path, article by article.

    python bench/gist_models.py --model embedded:qwen2.5-coder-0.5b-instruct \\
        --data ../shared/eval/dev.jsonl --dataset xsum --limit 100 --out /tmp/gist-0.5b.jsonl

Each article goes through what the service runs (the extractive engine, then the gist model
through llama.cpp under the claim guard). One JSON line per article records the model's first
gist, the retry, the shown gist, the guard's reasons, the positions and the timings, so the
guard can be checked by hand afterwards; the summary printed at the end has ROUGE of the gist
against the references, invented names/numbers before and after the guard (the independent
counter of ``briefing.evaluation.gist_eval``), novel-bigram share, seconds per article, load time
and peak memory (max RSS of this process). Run one model per process: peak memory is per process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from briefing.config import SummariserConfig  # noqa: E402
from briefing.ingest.clean import clean_article  # noqa: E402
from briefing.evaluation.evaluate import load_examples  # noqa: E402
from briefing.evaluation.gist_eval import invented, novel_bigram_share  # noqa: E402
from briefing.summarise.base import Document  # noqa: E402
from briefing.summarise.extractive import ExtractiveEngine  # noqa: E402
from briefing.summarise.gist_engine import GistEngine, build_abstractor  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--dataset", default="", help="only examples whose source_dataset starts with this")
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--no-entailment", action="store_true",
                    help="skip the judge's entailment question (the product asks it: summariser.gist_entailment)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--resume", action="store_true", help="keep the articles already in --out and go on")
    args = ap.parse_args()

    from rouge_score import rouge_scorer

    cfg = SummariserConfig(gist=True, gist_model=args.model, gist_entailment=not args.no_entailment,
                           threads=args.threads)
    examples = [e for e in load_examples(args.data) if e.source_dataset.startswith(args.dataset)]
    examples = examples[args.skip:args.skip + args.limit]
    extractive = ExtractiveEngine(cfg)
    start = time.perf_counter()
    engine = GistEngine(extractive, build_abstractor(cfg, extractive.nlp))
    load = time.perf_counter() - start
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    secs, rows = [], []
    if args.resume and args.out.exists():  # the machine is shared and long runs get interrupted
        rows = [json.loads(line) for line in args.out.read_text(encoding="utf-8").splitlines() if line.strip()]
        secs = [r["seconds"] for r in rows]
    done = {r["id"] for r in rows}
    with args.out.open("a" if args.resume else "w", encoding="utf-8") as out:
        for ex in examples:
            if ex.id in done:
                continue
            _, text = clean_article(ex.article, title="")
            doc = Document(title="", text=text)
            t0 = time.perf_counter()
            brief = engine.summarise(doc)
            took = time.perf_counter() - t0
            st = engine.abstractor.last
            first = st.first_gist
            rec = {"id": ex.id, "dataset": ex.source_dataset.split(" ")[0], "reference": ex.reference,
                   "first_gist": first, "second_gist": st.second_gist, "gist": brief.gist,
                   "rejected": st.rejected, "seconds": round(took, 2), "gist_seconds": round(st.seconds, 2),
                   "gist_wall": round(st.gist_wall, 2), "input_tokens": engine.abstractor.llama.count(
                       engine.abstractor.prefix(doc)),
                   "calls": st.calls, "prompt_tokens": st.prompt_tokens, "cached_tokens": st.cached_tokens,
                   "new_tokens": st.new_tokens, "load_avg": os.getloadavg()[0],
                   "r_first": {k: v.fmeasure for k, v in scorer.score(ex.reference, first).items()} if first else None,
                   "r_shown": {k: v.fmeasure for k, v in scorer.score(ex.reference, brief.gist).items()}
                   if brief.gist else None,
                   "invented_first": invented(first, text) if first else [],
                   "invented_shown": invented(brief.gist, text) if brief.gist else [],
                   "novel_first": novel_bigram_share(first, text) if first else None,
                   "actors": [{"name": a.name, "position": a.position, "evidence": a.evidence}
                              for a in brief.actors[:4]],
                   "flags": [f for f in brief.flags if "position" in f or "gist" in f]}
            out.write(json.dumps(rec) + "\n")
            out.flush()
            rows.append(rec)
            secs.append(took)
            print(f"{ex.id[:12]} {took:5.1f}s load {rec['load_avg']:.1f} {brief.gist or '(no gist)'}", flush=True)
    n = len(rows)
    firsts = [r for r in rows if r["r_first"]]
    shown = [r for r in rows if r["r_shown"]]

    def mean(rs: list[dict], which: str, key: str) -> float:
        return 100 * sum(r[which][key] for r in rs) / n if n else 0.0  # a missing gist scores 0

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "model": args.model, "n": n, "load_seconds": round(load, 1), "peak_rss_mb": round(peak),
        "first_R1": round(mean(firsts, "r_first", "rouge1"), 1), "first_R2": round(mean(firsts, "r_first", "rouge2"), 1),
        "first_RL": round(mean(firsts, "r_first", "rougeL"), 1),
        "shown_R1": round(mean(shown, "r_shown", "rouge1"), 1), "shown_R2": round(mean(shown, "r_shown", "rouge2"), 1),
        "shown_RL": round(mean(shown, "r_shown", "rougeL"), 1), "kept": len(shown),
        "invented_before": sum(bool(r["invented_first"]) for r in rows),
        "invented_after": sum(bool(r["invented_shown"]) for r in rows),
        "novel_bigrams_first": round(100 * statistics.mean(r["novel_first"] for r in firsts), 1) if firsts else None,
        "s_per_article_p50": round(statistics.median(secs), 1) if secs else None,
        "s_gist_p50": round(statistics.median(r["gist_wall"] for r in rows), 1) if rows else None,
        "s_gist_p90": round(sorted(r["gist_wall"] for r in rows)[int(0.9 * (n - 1))], 1) if rows else None,
        "positions_kept": sum(sum("condensed by" in f for f in r["flags"]) for r in rows),
        "load_avg_mean": round(statistics.mean(r["load_avg"] for r in rows), 1) if rows else None,
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
