"""Summariser throughput: the plain way vs our engine, on random-weight models of real sizes.

    python bench/summarise.py                      # both models, 16 articles (a few minutes on 2 cores)
    python bench/summarise.py --articles 8 --input-tokens 128 --new-tokens 32 --models qwen

Models are built from hand-written configs with the architecture and size of
``sshleifer/distilbart-cnn-12-6`` (BART, 12+6 layers, d_model 1024, 306M parameters) and
``Qwen/Qwen2.5-0.5B-Instruct`` (24 layers, hidden 896, GQA 14/2 heads, 494M parameters) and
random weights: no hub access, and random weights cost the same compute as trained ones.
Output length is forced equal (``min_new_tokens = max_new_tokens``) so neither side wins by
stopping early. Articles are the seed articles, cut to ``--input-tokens`` and varied in
length, as a feed delivers them.

(a) plain: load once, one ``generate`` call per article, with the **same decoding** as ours
    (greedy against greedy: distilbart's default 4 beams are turned off here, issue 10), so
    the comparison measures batching and the engine's settings, not beams against greedy.
(b) ours, batched: the engine's model path (``briefing.summarise.generation.Generator``):
    prompts sorted by length and batched, greedy, bounded ``max_new_tokens``, inference mode.
(c) ours, one at a time: the same with batch size 1 — what the service's summarise job and
    ``briefing summarise`` actually run, since they call the engine article by article.

The real embedded models are measured by ``bench/runtime.py`` (llama.cpp against transformers
on the same GGUF) and ``bench/gist_models.py`` (the product's gist path on the dev set);
their tables are in docs/benchmarks.md and docs/eval.md.

Each measurement runs in its own process, so the peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _tokenizer(folder: Path, chat: bool) -> None:
    """A byte-level BPE tokenizer trained on the seeds (the model's vocab is larger: ids are random)."""
    from tests.builders import seed_tokenizer

    texts = [p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").rglob("*")) if p.is_file()]
    seed_tokenizer(folder, texts, vocab_size=4000, chat=chat)


def build_distilbart(folder: Path) -> None:
    from transformers import BartConfig, BartForConditionalGeneration, GenerationConfig

    # sshleifer/distilbart-cnn-12-6's config.json, by hand.
    cfg = BartConfig(vocab_size=50264, d_model=1024, encoder_layers=12, decoder_layers=6,
                     encoder_attention_heads=16, decoder_attention_heads=16, encoder_ffn_dim=4096,
                     decoder_ffn_dim=4096, max_position_embeddings=1024, activation_function="gelu",
                     pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=2,
                     forced_bos_token_id=1, forced_eos_token_id=2, scale_embedding=False)
    model = BartForConditionalGeneration(cfg)
    model.generation_config = GenerationConfig(
        num_beams=4, length_penalty=2.0, max_length=142, min_length=56, no_repeat_ngram_size=3,
        early_stopping=True, decoder_start_token_id=2, bos_token_id=1, eos_token_id=2, pad_token_id=0,
        forced_bos_token_id=1, forced_eos_token_id=2)
    model.save_pretrained(folder)
    _tokenizer(folder, chat=False)


def build_qwen(folder: Path) -> None:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    # Qwen/Qwen2.5-0.5B-Instruct's config.json, by hand.
    cfg = Qwen2Config(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                      num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768,
                      rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
                      bos_token_id=1, eos_token_id=2, pad_token_id=0)
    Qwen2ForCausalLM(cfg).save_pretrained(folder)
    _tokenizer(folder, chat=True)


BUILDERS = {"distilbart": build_distilbart, "qwen": build_qwen}
LABELS = {"distilbart": "distilbart-cnn-12-6 (random)", "qwen": "Qwen2.5-0.5B-Instruct (random)"}


def articles(n: int, input_tokens: int, tokenizer: object) -> list[str]:
    """``n`` seed-like articles between half and all of ``input_tokens`` long."""
    from briefing.ingest.clean import clean_article

    texts = [clean_article(p.read_text(encoding="utf-8"))[1] for p in sorted((REPO / "seeds" / "articles").iterdir())]
    out = []
    for i in range(n):
        ids = tokenizer(texts[i % len(texts)], add_special_tokens=False)["input_ids"]  # type: ignore[operator]
        keep = input_tokens // 2 + (input_tokens // 2) * i // max(1, n - 1)
        out.append(tokenizer.decode(ids[i % 7: i % 7 + keep]))  # type: ignore[attr-defined]
    return out


def measure(kind: str, way: str, folder: Path, n: int, input_tokens: int, new_tokens: int, batch: int) -> dict:
    """One measurement in this process: load once, summarise ``n`` articles, time it."""
    import torch

    from briefing.config import SummariserConfig
    from briefing.summarise.generation import Generator
    from briefing.summarise.loader import load_model
    from briefing.summarise.prompts import load_prompts

    cfg = SummariserConfig(engine="transformers", model=str(folder), device="cpu", batch_size=batch,
                           max_new_tokens=new_tokens, timeout_seconds=3600)
    lm = load_model(cfg)
    prompts_set = load_prompts(cfg.prompts_dir)
    gen = Generator(lm, new_tokens, batch, cfg.timeout_seconds)
    template = "encoder" if lm.kind == "seq2seq" else "summary"
    prompts = [gen.as_prompt(prompts_set.render(template, article=a, sentences=3))
               for a in articles(n, input_tokens, lm.tokenizer)]
    start = time.perf_counter()
    if way == "plain":
        lengths = []
        for p in prompts:
            chat = lm.kind == "causal"
            enc = lm.tokenizer(p, return_tensors="pt", add_special_tokens=not chat)
            out = lm.model.generate(**enc, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                    num_beams=1, do_sample=False)
            new = out[0, enc["input_ids"].shape[1]:] if chat else out[0]
            lengths.append(int((new != lm.tokenizer.pad_token_id).sum()))
    else:
        if way == "single":
            gen = Generator(lm, new_tokens, 1, cfg.timeout_seconds)
        results = gen.generate(prompts, new_tokens, new_tokens)
        lengths = [r.new_tokens for r in results]
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"kind": kind, "way": way, "articles": n, "seconds": seconds, "per_second": n / seconds,
            "peak_mb": peak_mb, "mean_new_tokens": sum(lengths) / len(lengths), "threads": torch.get_num_threads()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", choices=sorted(BUILDERS), default=["distilbart", "qwen"])
    p.add_argument("--articles", type=int, default=16)
    p.add_argument("--input-tokens", type=int, default=256, help="longest article, in tokens")
    p.add_argument("--new-tokens", type=int, default=48, help="output length, forced equal on both sides")
    p.add_argument("--batch", type=int, default=8, help="our engine's batch size")
    p.add_argument("--measure", nargs=3, metavar=("KIND", "WAY", "DIR"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.measure:
        kind, way, folder = args.measure
        print(json.dumps(measure(kind, way, Path(folder), args.articles, args.input_tokens, args.new_tokens,
                                 args.batch)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.models:
            folder = Path(tmp) / kind
            BUILDERS[kind](folder)
            for way in ("plain", "ours", "single"):
                cmd = [sys.executable, __file__, "--measure", kind, way, str(folder), "--articles", str(args.articles),
                       "--input-tokens", str(args.input_tokens), "--new-tokens", str(args.new_tokens),
                       "--batch", str(args.batch)]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                rows.append(json.loads(out.strip().splitlines()[-1]))
                print(f"  {kind} {way}: {rows[-1]['seconds']:.1f}s", file=sys.stderr)
    print(f"{args.articles} articles of {args.input_tokens // 2}-{args.input_tokens} tokens, "
          f"{args.new_tokens} new tokens each, CPU threads: {rows[0]['threads']}, our batch size: {args.batch}")
    print(f"| model | way | articles/s | peak memory (MB) | new tokens/article | speed-up over (a) |")
    print("|---|---|---|---|---|---|")
    for kind in args.models:
        a, b, c = (next(r for r in rows if r["kind"] == kind and r["way"] == w) for w in ("plain", "ours", "single"))
        for r, label in ((a, "(a) plain, greedy"), (b, "(b) ours, batched"), (c, "(c) ours, one at a time")):
            ratio = f"{r['per_second'] / a['per_second']:.2f}x" if r is not a else ""
            print(f"| {LABELS[kind]} | {label} | {r['per_second']:.3f} | {r['peak_mb']:.0f} | "
                  f"{r['mean_new_tokens']:.0f} | {ratio} |")


if __name__ == "__main__":
    main()
