"""Running a loaded model: prompts in, texts out, fast.

What makes it faster than one ``generate`` call per article with the model's defaults
(see ``bench/summarise.py``): prompts are sorted by length and batched (less padding, the
weights are read once per step for the whole batch), decoding is greedy (no beams),
``max_new_tokens`` is bounded, and everything runs under ``torch.inference_mode()``.
Each batch has a time limit (``max_time``); a cut-off answer is repaired or replaced later.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from briefing.summarise.loader import LoadedModel


@dataclass
class Generated:
    text: str
    seconds: float  # wall time of the batch it ran in
    timed_out: bool
    new_tokens: int = 0  # tokens generated (padding not counted)


def _batches(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i: i + size]


@dataclass
class Generator:
    lm: LoadedModel
    max_new_tokens: int
    batch_size: int
    timeout_seconds: float
    calls: int = field(default=0, init=False)  # generate() calls made, for tests and stats

    def as_prompt(self, user_text: str) -> str:
        """A user message in the model's chat format (plain text for other models)."""
        tok = self.lm.tokenizer
        if self.lm.kind == "causal" and self.lm.has_chat_template:
            return str(tok.apply_chat_template([{"role": "user", "content": user_text}], tokenize=False,
                                               add_generation_prompt=True))
        return user_text

    def count(self, text: str) -> int:
        return len(self.lm.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])

    @property
    def input_limit(self) -> int:
        """Prompt tokens that still leave room for the answer in the model's context."""
        return max(16, self.lm.context - self.max_new_tokens)

    def generation_config(self, max_new_tokens: int, min_new_tokens: int | None) -> Any:
        cfg = self.lm.model.generation_config.__class__.from_dict(self.lm.model.generation_config.to_dict())
        # Greedy and bounded; the model's own limits (e.g. BART's min_length 56, 4 beams) are replaced.
        cfg.update(do_sample=False, num_beams=1, max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens,
                   max_length=None, min_length=0, early_stopping=False, max_time=self.timeout_seconds,
                   pad_token_id=self.lm.tokenizer.pad_token_id, temperature=None, top_p=None, top_k=None)
        if self.lm.kind == "causal" and not cfg.no_repeat_ngram_size:
            cfg.no_repeat_ngram_size = 6  # small models loop; copying a 6-word phrase twice is never needed
        return cfg

    def generate(self, prompts: list[str], max_new_tokens: int | None = None,
                 min_new_tokens: int | None = None) -> list[Generated]:
        """Answers in the order of ``prompts``; prompts are already in the model's format."""
        if not prompts:
            return []
        lengths = [self.count(p) for p in prompts]
        # Nothing to say about an empty text (a part summary the model left empty, say).
        out: list[Generated | None] = [Generated("", 0.0, False) if not n else None for n in lengths]
        order = sorted((i for i in range(len(prompts)) if lengths[i]), key=lambda i: lengths[i])
        for batch in _batches(order, self.batch_size):
            for i, result in zip(batch, self._run([prompts[i] for i in batch], max_new_tokens, min_new_tokens)):
                out[i] = result
        return [g for g in out if g is not None]

    def _run(self, texts: list[str], max_new_tokens: int | None, min_new_tokens: int | None) -> list[Generated]:
        import torch

        tok, model = self.lm.tokenizer, self.lm.model
        chat = self.lm.kind == "causal" and self.lm.has_chat_template
        enc = tok(texts, return_tensors="pt", padding=True, truncation=True, max_length=self.input_limit,
                  add_special_tokens=not chat).to(self.lm.device)
        cfg = self.generation_config(max_new_tokens or self.max_new_tokens, min_new_tokens)
        start = time.perf_counter()
        with torch.inference_mode():
            ids = model.generate(**enc, generation_config=cfg)
        seconds = time.perf_counter() - start
        self.calls += 1
        if self.lm.kind == "causal":
            ids = ids[:, enc["input_ids"].shape[1]:]
        timed_out = seconds >= self.timeout_seconds
        counts = (ids != tok.pad_token_id).sum(dim=1).tolist()
        texts = tok.batch_decode(ids, skip_special_tokens=True)
        return [Generated(t.strip(), seconds, timed_out, n) for t, n in zip(texts, counts)]
