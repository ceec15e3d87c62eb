"""llama.cpp against transformers on the same GGUF, prompt and output length (greedy on both).

    python bench/runtime.py --runtime llama.cpp --gguf ~/.cache/briefing/models/X.gguf \\
        --data ../shared/eval/dev.jsonl --limit 5 --tokens 48
    python bench/runtime.py --runtime transformers --gguf ... (same arguments)

Run each runtime in its own process (peak memory is the process's max RSS). Both get the
model's chat prompt "Summarise this news article in one sentence" with the article, decode
greedily, and write exactly ``--tokens`` new tokens (the end-of-text token is banned on both,
so neither stops early). Printed: load seconds, seconds per article (prompt + generation),
generated tokens per second, prompt tokens per article, peak RSS, and the load average.
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

from briefing.ingest.clean import clean_article  # noqa: E402
from briefing.evaluation.evaluate import load_examples  # noqa: E402

PROMPT = "Summarise this news article in one sentence.\n\nArticle:\n{article}"


def articles(path: Path, dataset: str, limit: int, max_chars: int) -> list[str]:
    out = []
    for ex in load_examples(path):
        if ex.source_dataset.startswith(dataset):
            out.append(clean_article(ex.article, title="")[1][:max_chars])
        if len(out) >= limit:
            break
    return out


def run_llama(gguf: Path, texts: list[str], tokens: int, threads: int) -> tuple[float, list[tuple[float, int, int]]]:
    from briefing.summarise.llama_runtime import LlamaModel

    start = time.perf_counter()
    model = LlamaModel(gguf, n_ctx=4096, threads=threads)
    load = time.perf_counter() - start
    eos = model.llm.token_eos()
    out = []
    for text in texts:
        prompt = model.chat_prompt(PROMPT.format(article=text))
        model.llm.reset()  # no prefix reuse between different articles anyway; measure cold
        t0 = time.perf_counter()
        res = model.llm.create_completion(prompt, max_tokens=tokens, temperature=0.0, top_k=1, repeat_penalty=1.0,
                                          logit_bias={eos: -1e9})
        took = time.perf_counter() - t0
        out.append((took, res["usage"]["prompt_tokens"], res["usage"]["completion_tokens"]))
    return load, out


def run_transformers(gguf: Path, texts: list[str], tokens: int, threads: int) -> tuple[float, list[tuple[float, int, int]]]:
    import torch

    from briefing.config import SummariserConfig
    from briefing.summarise.loader import load_model

    cfg = SummariserConfig(engine="transformers", model=str(gguf), device="cpu", threads=threads)
    start = time.perf_counter()
    lm = load_model(cfg)
    load = time.perf_counter() - start
    tok = lm.tokenizer
    out = []
    for text in texts:
        prompt = tok.apply_chat_template([{"role": "user", "content": PROMPT.format(article=text)}], tokenize=False,
                                         add_generation_prompt=True)
        enc = tok(prompt, return_tensors="pt", add_special_tokens=False)
        t0 = time.perf_counter()
        with torch.inference_mode():
            ids = lm.model.generate(**enc, do_sample=False, num_beams=1, max_new_tokens=tokens,
                                    min_new_tokens=tokens, pad_token_id=tok.pad_token_id)
        took = time.perf_counter() - t0
        out.append((took, enc["input_ids"].shape[1], ids.shape[1] - enc["input_ids"].shape[1]))
    return load, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runtime", choices=["llama.cpp", "transformers"], required=True)
    ap.add_argument("--gguf", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--dataset", default="xsum")
    ap.add_argument("--limit", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--max-chars", type=int, default=4000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    texts = articles(args.data, args.dataset, args.limit, args.max_chars)
    run = run_llama if args.runtime == "llama.cpp" else run_transformers
    load, rows = run(args.gguf, texts, args.tokens, args.threads)
    secs = [r[0] for r in rows]
    print(json.dumps({
        "runtime": args.runtime, "model": args.gguf.name, "articles": len(rows), "new_tokens": args.tokens,
        "load_s": round(load, 1), "s_per_article_median": round(statistics.median(secs), 2),
        "s_per_article_mean": round(statistics.mean(secs), 2),
        "tokens_per_s": round(sum(r[2] for r in rows) / sum(secs), 2),
        "prompt_tokens_mean": round(statistics.mean(r[1] for r in rows)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_avg_1m": os.getloadavg()[0],
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
