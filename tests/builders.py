"""Small builders for test articles and feeds."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from datetime import datetime, timezone
from email.utils import format_datetime
from html import escape


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    summary: str = ""
    published: datetime = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


_WORDS = ("council budget river school harbour railway hospital union farmers court election bridge tax "
          "police museum festival drought energy wind solar housing rent tram airport port ferry mine "
          "forest fishing tourism library stadium clinic vaccine teachers nurses pilots workers storm").split()


def article_text(topic: str = "the harbour", n: int = 5, who: str = "Mayor Anna Berg") -> str:
    """A plausible multi-paragraph article with an attributed statement; different topics give different text."""
    rng = random.Random(topic)
    paras = [f"{who} said on Monday that the plan for {topic} would go ahead despite protests from residents."]
    for i in range(1, n):
        words = " ".join(rng.choice(_WORDS) for _ in range(12))
        paras.append(f"Paragraph {i} about {topic} mentions {words}, with {rng.randint(10, 999)} people "
                     f"affected and a cost of {rng.randint(1, 90)} million euros.")
    return "\n\n".join(paras)


def html_page(title: str, body: str, extra_head: str = "") -> str:
    paras = "".join(f"<p>{escape(p)}</p>" for p in body.split("\n\n"))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>{extra_head}</head>"
            f"<body><nav><a href='/'>Home</a></nav><article><h1>{escape(title)}</h1>{paras}</article>"
            f"<footer>Share this article. All rights reserved.</footer></body></html>")


def rss(items: list[Item], version: str = "2.0") -> str:
    entries = "".join(
        f"<item><title>{escape(i.title)}</title><link>{escape(i.link)}</link>"
        f"<description>{escape(i.summary)}</description><pubDate>{format_datetime(i.published)}</pubDate></item>"
        for i in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="{version}"><channel><title>Test feed</title>'
            f"<link>http://127.0.0.1/</link><description>t</description>{entries}</channel></rss>")


def rss1(items: list[Item]) -> str:
    """RSS 1.0 (RDF)."""
    entries = "".join(
        f'<item rdf:about="{escape(i.link)}"><title>{escape(i.title)}</title><link>{escape(i.link)}</link>'
        f"<description>{escape(i.summary)}</description></item>" for i in items)
    return ('<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://127.0.0.1/"><title>T</title>'
            f"<link>http://127.0.0.1/</link><description>t</description></channel>{entries}</rdf:RDF>")


def atom(items: list[Item]) -> str:
    entries = "".join(
        f'<entry><title>{escape(i.title)}</title><link href="{escape(i.link)}"/><id>{escape(i.link)}</id>'
        f"<updated>{i.published.isoformat()}</updated><summary>{escape(i.summary)}</summary></entry>"
        for i in items)
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Test</title><id>urn:test</id><updated>2026-11-20T12:00:00Z</updated>{entries}</feed>")


CHATML = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
TOKENIZER_SPECIALS = ["<pad>", "<s>", "</s>", "<unk>", "<|im_start|>", "<|im_end|>"]


def seed_tokenizer(folder: Path, texts: list[str], *, vocab_size: int, chat: bool,
                   model_max_length: int | None = None, chat_eos: bool = False):  # type: ignore[no-untyped-def]
    """A byte-level BPE tokenizer trained on ``texts``, saved to ``folder`` (no hub needed).

    Shared by the tiny test models and the random-weight models of ``bench/summarise.py``;
    ``chat`` adds a ChatML template, ``chat_eos`` makes ``<|im_end|>`` the end of a turn.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=TOKENIZER_SPECIALS,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    extra = {"model_max_length": model_max_length} if model_max_length else {}
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
                                   unk_token="<unk>", **extra)
    if chat:
        fast.chat_template = CHATML
        if chat_eos:
            fast.eos_token = "<|im_end|>"
    fast.save_pretrained(folder)
    return fast


def tiny_gguf(path: Path, texts: list[str], *, vocab_size: int = 600, seed: int = 0,
              chat: bool = True, n_embd: int = 64, n_layer: int = 2) -> Path:
    """A tiny random-weight llama-architecture GGUF (float32) with a BPE tokenizer trained on ``texts``.

    llama.cpp loads and runs it like any GGUF, so the llama.cpp path (loading, chat template,
    grammars, KV-cache reuse) is tested without a real model; what it writes is noise, which
    the grammars still force into the required form.
    """
    import json
    import tempfile

    import gguf
    import numpy as np

    with tempfile.TemporaryDirectory() as tmp:
        fast = seed_tokenizer(Path(tmp), texts, vocab_size=vocab_size, chat=chat, chat_eos=True)
        spec = json.loads(fast.backend_tokenizer.to_str())
    vocab = spec["model"]["vocab"]
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
    specials = set(TOKENIZER_SPECIALS)
    types = [gguf.TokenType.CONTROL if t in specials else gguf.TokenType.NORMAL for t in tokens]
    rng = np.random.default_rng(seed)
    n_vocab, n_ff, n_head = len(tokens), 2 * n_embd, 4

    def weight(*shape: int) -> "np.ndarray":
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_context_length(2048)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(vocab["<s>"])
    w.add_eos_token_id(vocab["<|im_end|>"] if chat else vocab["</s>"])
    w.add_pad_token_id(vocab["<pad>"])
    w.add_add_bos_token(False)
    if chat:
        w.add_chat_template(CHATML)
    w.add_tensor("token_embd.weight", weight(n_vocab, n_embd))
    w.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    w.add_tensor("output.weight", weight(n_vocab, n_embd))
    for i in range(n_layer):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            w.add_tensor(f"blk.{i}.{name}.weight", weight(n_embd, n_embd))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        w.add_tensor(f"blk.{i}.ffn_gate.weight", weight(n_ff, n_embd))
        w.add_tensor(f"blk.{i}.ffn_up.weight", weight(n_ff, n_embd))
        w.add_tensor(f"blk.{i}.ffn_down.weight", weight(n_embd, n_ff))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
