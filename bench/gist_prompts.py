"""Compare gist prompts on the development set, chosen by k-fold cross-validation over articles.

    python bench/gist_prompts.py run --data ../shared/eval/dev.jsonl --dataset xsum --limit 100 \\
        --out /tmp/gist-prompts.jsonl [--model embedded:qwen2.5-coder-1.5b-instruct] [--threads 1]
    python bench/gist_prompts.py cv /tmp/gist-prompts.jsonl [--folds 5]

``run``: for each article, every candidate prompt below writes a gist through the product's path
(llama.cpp, the one-sentence grammar, the claim guard, one rewrite, then drop); the article is
the prompt prefix of every candidate, so llama.cpp reads it once per article (KV cache) and the
candidates cost only their own question and answer. The positions of the extractive brief's key
actors are condensed once per article with the product's prompt (``prompts/position.txt``), and
recorded with the guard's verdicts so they can be labelled by hand. One JSON line per article.

``--cuts 256,512,1536``: each prompt is also tried with the article cut to that many tokens
(``summariser.gist_max_input_tokens``; whole paragraphs, as the product cuts), the candidate then
named ``prompt@cut``. The cuts run shortest first, so each longer one reuses the shorter one's
prefix from the KV cache. ``--prompts product`` keeps only the shipped prompt.

``cv``: which candidate would be chosen, and what it scores on articles it was not chosen on.
The articles are split into k folds (in file order: the dev set is not sorted by anything that
matters here); on each, the candidate with the best mean ROUGE-2 of the *shown* gist (after the
guard; a dropped gist scores 0) on the other folds is picked and scored on the held-out fold.
With ``--prefer-shorter POINTS`` (fixed before the run that chose the shipped cut: 0.5), the
pick is instead the *shortest cut* whose training-fold mean is within POINTS of the best: the
article is the prompt's largest part and prefill on 2 cores runs at about 50 tokens/s, so a
cut that costs no measurable quality is worth its seconds (docs/eval.md).
Printed: every candidate's in-sample means (for reference only), the held-out mean ± sd over
folds of the picked candidate, and how often each candidate was picked.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from briefing.config import SummariserConfig  # noqa: E402
from briefing.ingest.clean import clean_article  # noqa: E402
from briefing.evaluation.evaluate import load_examples  # noqa: E402
from briefing.evaluation.gist_eval import invented, novel_bigram_share  # noqa: E402
from briefing.summarise.base import Document  # noqa: E402
from briefing.summarise.gist import GistStats  # noqa: E402

# The candidates: the product's prompt (prompts/gist.txt), the plain one-sentence prompt
# (the one that scored 7.0 ROUGE-2 on 20 XSum articles), and a news-introduction prompt.
CANDIDATES = {
    "product": None,  # prompts/gist.txt as shipped
    "plain": "Summary of the article above in one sentence of at most $words words:",
    "intro": ("Write the first sentence of a news report on the article above: one sentence of at most $words "
              "words saying what happened and who was involved. Use only names, numbers and facts stated in "
              "the article."),
}


def run(args: argparse.Namespace) -> int:
    from rouge_score import rouge_scorer

    from briefing.summarise.extractive import ExtractiveEngine
    from briefing.summarise.gist_engine import build_abstractor

    # The rules guard only: the entailment judge costs a model call per sentence (measured on the hand labels).
    cfg = SummariserConfig(gist=True, gist_model=args.model, threads=args.threads, gist_entailment=False)
    examples = [e for e in load_examples(args.data) if e.source_dataset.startswith(args.dataset)]
    examples = examples[args.skip:args.skip + args.limit]
    extractive = ExtractiveEngine(cfg)
    ab = build_abstractor(cfg, extractive.nlp)
    base = ab.prompts
    prompts = [n for n in CANDIDATES if not args.prompts or n in args.prompts.split(",")]
    cuts = sorted(int(c) for c in args.cuts.split(",")) if args.cuts else [ab.max_input_tokens]
    sets = {(f"{name}@{cut}" if args.cuts else name, cut):
            replace(base, templates={**base.templates, "gist": CANDIDATES[name]}) if CANDIDATES[name] else base
            for cut in cuts for name in prompts}
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    done = set()
    if args.out.exists():  # resume: the machine is shared and runs get interrupted
        done = {json.loads(line)["id"] for line in args.out.read_text(encoding="utf-8").splitlines() if line}
    with args.out.open("a", encoding="utf-8") as out:
        for ex in examples:
            if ex.id in done:
                continue
            _, text = clean_article(ex.article, title="")
            doc = Document(title="", text=text)
            brief = extractive.summarise(doc)
            article = ab.checker.source(text)
            rec: dict = {"id": ex.id, "reference": ex.reference, "load_avg": os.getloadavg()[0], "candidates": {}}
            for (name, cut), prompts in sets.items():
                ab.prompts = prompts
                ab.max_input_tokens, ab._prefix = cut, None  # the article cut again to this length
                ab.last = GistStats()
                flags: list[str] = []
                t0 = time.perf_counter()
                shown = ab.write_gist(doc, article, flags)
                st = ab.last
                rec["candidates"][name] = {
                    "first": st.first_gist, "second": st.second_gist, "shown": shown, "rejected": st.rejected,
                    "seconds": round(time.perf_counter() - t0, 2), "cached_tokens": st.cached_tokens,
                    "prompt_tokens": st.prompt_tokens,
                    "r_first": {k: v.fmeasure for k, v in scorer.score(ex.reference, st.first_gist).items()},
                    "r_shown": {k: v.fmeasure for k, v in scorer.score(ex.reference, shown).items()} if shown
                    else {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0},
                    "invented_first": invented(st.first_gist, text) if st.first_gist else [],
                    "invented_shown": invented(shown, text) if shown else [],
                    "novel_first": novel_bigram_share(st.first_gist, text) if st.first_gist else None}
            ab.prompts = base
            ab.max_input_tokens, ab._prefix = cfg.gist_max_input_tokens, None
            if args.no_positions:
                rec["positions"], rec["position_flags"], rec["position_seconds"] = [], [], 0.0
                out.write(json.dumps(rec) + "\n")
                out.flush()
                print(f"{ex.id[:16]} load {rec['load_avg']:.1f} " + " | ".join(
                    f"{n} {c['seconds']:.0f}s R2 {100 * c['r_shown']['rouge2']:.0f}"
                    for n, c in rec["candidates"].items()), flush=True)
                continue
            ab.last = GistStats()
            flags = []
            t0 = time.perf_counter()
            actors = ab.write_positions(doc, brief.actors, flags)
            rec["positions"] = [{"name": a.name, "evidence": a.evidence, "model": m, "extractive": a.position,
                                 "kept": b.position == m and bool(m)}
                                for a, b, m in zip(brief.actors, actors, ab.last.positions)]
            rec["position_flags"] = [f for f in flags if "rejected" in f]
            rec["position_seconds"] = round(time.perf_counter() - t0, 2)
            out.write(json.dumps(rec) + "\n")
            out.flush()
            c = rec["candidates"]
            print(f"{ex.id[:16]} load {rec['load_avg']:.1f} " + " | ".join(
                f"{n} {c[n]['seconds']:.0f}s R2 {100 * c[n]['r_shown']['rouge2']:.0f}" for n in c)
                + f" | positions {sum(p['kept'] for p in rec['positions'])}/{len(rec['positions'])}"
                f" {rec['position_seconds']:.0f}s", flush=True)
    return 0


def _mean(rows: list[dict], name: str, which: str, key: str) -> float:
    return 100 * statistics.mean(r["candidates"][name][which][key] for r in rows) if rows else 0.0


def _cut(name: str) -> int:
    return int(name.rsplit("@", 1)[1]) if "@" in name else 0


def cv(args: argparse.Namespace) -> int:
    rows = [json.loads(line) for line in args.results.read_text(encoding="utf-8").splitlines() if line.strip()]
    names = list(rows[0]["candidates"])
    k = args.folds
    folds = [rows[i::k] for i in range(k)]
    held, picks = [], []
    for i, fold in enumerate(folds):
        train = [r for j, f in enumerate(folds) if j != i for r in f]
        best = max(names, key=lambda n: _mean(train, n, "r_shown", "rouge2"))
        if args.prefer_shorter is not None:
            top = _mean(train, best, "r_shown", "rouge2")
            near = [n for n in names if _mean(train, n, "r_shown", "rouge2") >= top - args.prefer_shorter]
            best = min(near, key=lambda n: (_cut(n), -_mean(train, n, "r_shown", "rouge2")))
        picks.append(best)
        held.append({m: _mean(fold, best, w, m) for w in ("r_shown",) for m in ("rouge1", "rouge2", "rougeL")})
    report = {
        "n": len(rows), "folds": k, "load_avg_mean": round(statistics.mean(r["load_avg"] for r in rows), 1),
        "in_sample (reference only, not a result)": {
            n: {"first R1/R2/RL": [round(_mean(rows, n, "r_first", m), 1) for m in ("rouge1", "rouge2", "rougeL")],
                "shown R1/R2/RL": [round(_mean(rows, n, "r_shown", m), 1) for m in ("rouge1", "rouge2", "rougeL")],
                "kept": sum(bool(r["candidates"][n]["shown"]) for r in rows),
                "invented first -> shown": [sum(bool(r["candidates"][n]["invented_first"]) for r in rows),
                                            sum(bool(r["candidates"][n]["invented_shown"]) for r in rows)],
                "novel bigrams (first)": round(100 * statistics.mean(
                    r["candidates"][n]["novel_first"] for r in rows if r["candidates"][n]["novel_first"] is not None), 1),
                "words (shown)": round(statistics.mean(
                    len(r["candidates"][n]["shown"].split()) for r in rows if r["candidates"][n]["shown"]), 1)}
            for n in names},
        "held-out (picked on the other folds)": {
            m: f"{statistics.mean(h[m] for h in held):.1f} ± {statistics.stdev(h[m] for h in held):.1f}"
            for m in ("rouge1", "rouge2", "rougeL")},
        "picked": {n: picks.count(n) for n in names},
        "positions": {"asked": sum(len(r["positions"]) for r in rows),
                      "kept": sum(p["kept"] for r in rows for p in r["positions"]),
                      "briefs with one": sum(any(p["kept"] for p in r["positions"]) for r in rows)},
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--model", default="embedded:qwen2.5-coder-1.5b-instruct")
    r.add_argument("--data", type=Path, required=True)
    r.add_argument("--dataset", default="xsum")
    r.add_argument("--limit", type=int, default=100)
    r.add_argument("--skip", type=int, default=0)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--prompts", default="", help="comma-separated candidate prompts (default: all)")
    r.add_argument("--cuts", default="", help="comma-separated article cuts in tokens (default: the configured one)")
    r.add_argument("--no-positions", action="store_true", help="gists only")
    c = sub.add_parser("cv")
    c.add_argument("results", type=Path)
    c.add_argument("--folds", type=int, default=5)
    c.add_argument("--prefer-shorter", type=float, default=None, metavar="POINTS",
                   help="pick the shortest cut within POINTS of the best training ROUGE-2")
    args = ap.parse_args()
    return run(args) if args.cmd == "run" else cv(args)


if __name__ == "__main__":
    raise SystemExit(main())
