"""A GGUF model on the CPU through llama.cpp (``llama-cpp-python``), with grammar-constrained output.

Why llama.cpp for a GGUF on a CPU: ``transformers`` dequantises a GGUF to float32 and runs it
in PyTorch; llama.cpp runs the quantised weights directly with CPU kernels made for them.
Measured side by side in ``docs/benchmarks.md`` (same model, prompt, greedy decoding and
output length). ``transformers`` stays the runtime for hub ids, local directories and GPUs.

Two things this module gives the summariser:

* **Grammars** (GBNF, https://github.com/ggml-org/llama.cpp/blob/master/grammars/README.md):
  the model can only write what the grammar allows, so a gist is one sentence and a JSON
  answer always parses. Greedy decoding asks the grammar about the model's best token only
  (the whole vocabulary only when it refuses): :meth:`LlamaModel.complete`.
* **The article read once per brief**: every prompt about one article starts with the same
  prefix (the article), and llama.cpp keeps the evaluated prefix in its KV cache; the next
  prompt with the same prefix evaluates only the tokens after it (the longest common prefix
  is kept: :meth:`LlamaModel._eval_prompt`). So the gist, a retry and the yes/no checks cost one reading.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefing.errors import ModelUnavailableError

log = logging.getLogger(__name__)


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    new_tokens: int
    seconds: float
    cached_tokens: int  # prompt tokens taken from the KV cache instead of evaluated again


def available() -> bool:
    """Whether llama-cpp-python is installed (it is imported only when a model is loaded)."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


class LlamaModel:
    """One GGUF loaded by llama.cpp; not thread-safe (callers hold :attr:`lock`)."""

    def __init__(self, path: str | Path, n_ctx: int = 4096, threads: int = 0) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelUnavailableError(
                "llama-cpp-python is not installed (pip install llama-cpp-python==0.3.36; it builds from "
                "source with gcc and cmake)") from exc
        self.path = str(path)
        start = time.perf_counter()
        try:
            self.llm = Llama(model_path=self.path, n_ctx=n_ctx, n_threads=threads or (os.cpu_count() or 1),
                             n_batch=512, seed=0, verbose=False)
        except (ValueError, RuntimeError) as exc:  # llama.cpp could not read the file
            raise ModelUnavailableError(f"llama.cpp could not load {self.path}: {exc}") from exc
        self.load_seconds = time.perf_counter() - start
        self.lock = threading.Lock()
        self.context = self.llm.n_ctx()
        meta = self.llm.metadata or {}
        self.chat_template: str | None = meta.get("tokenizer.chat_template")
        self._eos = self._token_text(self.llm.token_eos())
        self._bos = self._token_text(self.llm.token_bos())
        log.info("loaded %s with llama.cpp in %.1fs (context %d)", self.path, self.load_seconds, self.context)

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="ignore")

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)

    def chat_prompt(self, user_text: str) -> str:
        """A user turn in the model's own chat format, ready for the assistant's answer."""
        if not self.chat_template:
            return user_text
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        fmt = Jinja2ChatFormatter(self.chat_template, eos_token=self._eos, bos_token=self._bos,
                                  add_generation_prompt=True)
        prompt = fmt(messages=[{"role": "user", "content": user_text}]).prompt
        # llama.cpp adds the BOS token itself when the model wants one.
        return prompt[len(self._bos):] if self._bos and prompt.startswith(self._bos) else prompt

    def count(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def complete(self, prompt: str, max_tokens: int, gbnf: str | None = None) -> Completion:
        """Greedy continuation of ``prompt`` (no sampling, no repetition penalty), optionally under a grammar.

        The loop is ours rather than ``create_completion``'s, for two reasons:

        * **The grammar checks one token, not the vocabulary.** llama-cpp-python's sampler chain
          runs the grammar over all 151,936 candidates of a Qwen vocabulary before every token,
          which cost 0.4-0.8 s per token here, several times the forward pass itself
          (docs/benchmarks.md). Greedy decoding only needs to know whether the model's best token
          is allowed: it almost always is, so the grammar checks that one token, and only when it
          refuses is the whole vocabulary masked to find the best allowed token — what llama.cpp's
          own sampler does (``common_sampler_sample``). The output is the same token for token.
        * **The prompt's shared prefix comes from the KV cache**, as in :meth:`answer_margin`.
        """
        import llama_cpp
        import numpy as np

        llm = self.llm
        tokens = llm.tokenize(prompt.encode("utf-8"), special=True)
        start = time.perf_counter()
        cached = self._eval_prompt(tokens)
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        grammar = (llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), b"root")
                   if gbnf else None)
        if gbnf and not grammar:
            raise ModelUnavailableError(f"llama.cpp could not parse the grammar {gbnf[:60]!r}")
        out: list[int] = []
        try:
            for _ in range(max_tokens):
                logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1),
                                               shape=(llm.n_vocab(),))
                token = int(np.argmax(logits))
                if grammar is not None and not _allowed(grammar, [token], logits):
                    token = _best_allowed(grammar, logits)
                if token < 0 or llama_cpp.llama_vocab_is_eog(vocab, token):
                    break
                if grammar is not None:
                    llama_cpp.llama_sampler_accept(grammar, token)
                out.append(token)
                llm.eval([token])
        finally:
            if grammar is not None:
                llama_cpp.llama_sampler_free(grammar)
        text = llm.detokenize(out).decode("utf-8", errors="ignore")
        return Completion(text, len(tokens), len(out), time.perf_counter() - start, cached)

    def _eval_prompt(self, tokens: list[int]) -> int:
        """Evaluate ``tokens`` after the longest prefix already in the KV cache; how many came from it."""
        llm = self.llm
        shared = 0
        for a, b in zip(llm.input_ids[:llm.n_tokens], tokens):
            if a != b:
                break
            shared += 1
        llm.n_tokens = min(shared, len(tokens) - 1)  # at least the last token is evaluated: its logits are read
        cached = llm.n_tokens
        llm.eval(tokens[llm.n_tokens:])
        return cached

    def answer_margin(self, prompt: str, yes: tuple[str, ...] = ("yes", "Yes"), no: tuple[str, ...] = ("no", "No")) -> float:
        """How much more the model wants to answer ``yes`` than ``no`` next: the logit margin of the best
        first token of each (> 0: it would say yes). One forward pass; the prompt's shared prefix comes
        from the KV cache, as in :meth:`complete`."""
        import llama_cpp
        import numpy as np

        llm = self.llm
        tokens = llm.tokenize(prompt.encode("utf-8"), special=True)
        start = time.perf_counter()
        self._eval_prompt(tokens)
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(llm.n_vocab(),))
        ids = {w: llm.tokenize(w.encode("utf-8"), add_bos=False, special=False)[0] for w in (*yes, *no)}
        self.last_margin_seconds = time.perf_counter() - start
        return float(max(logits[ids[w]] for w in yes) - max(logits[ids[w]] for w in no))


def _token_data(logits: Any, ids: list[int] | None = None) -> tuple[Any, Any]:
    """A llama.cpp candidates array over ``ids`` (default: the whole vocabulary) and its numpy backing."""
    import llama_cpp
    import numpy as np

    dtype = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)
    ids_arr = np.arange(len(logits), dtype=np.intc) if ids is None else np.asarray(ids, dtype=np.intc)
    data = np.zeros(len(ids_arr), dtype=dtype)
    data["id"], data["logit"] = ids_arr, logits[ids_arr]
    array = llama_cpp.llama_token_data_array(
        data=data.ctypes.data_as(llama_cpp.llama_token_data_p), size=len(data), selected=-1, sorted=False)
    return array, data


def _allowed(grammar: Any, ids: list[int], logits: Any) -> bool:
    """Whether the grammar allows every token of ``ids`` next (it masks refused ones to -inf)."""
    import ctypes

    import llama_cpp
    import numpy as np

    array, data = _token_data(logits, ids)
    llama_cpp.llama_sampler_apply(grammar, ctypes.byref(array))
    return bool(np.isfinite(data["logit"]).all())


def _best_allowed(grammar: Any, logits: Any) -> int:
    """The highest-scoring token the grammar allows next, or -1 when it allows none."""
    import ctypes

    import llama_cpp
    import numpy as np

    array, data = _token_data(logits)
    llama_cpp.llama_sampler_apply(grammar, ctypes.byref(array))
    best = int(np.argmax(data["logit"]))
    return int(data["id"][best]) if np.isfinite(data["logit"][best]) else -1


_LOADED: dict[tuple[str, int, int], LlamaModel] = {}
_LOCK = threading.Lock()


def _close_all() -> None:
    """Free the models before the interpreter tears down the library they live in."""
    for model in _LOADED.values():
        model.llm.close()
    _LOADED.clear()


def load_llama(path: str | Path, n_ctx: int = 4096, threads: int = 0) -> LlamaModel:
    """One llama.cpp model per file and settings per process."""
    key = (str(Path(path).resolve()), n_ctx, threads)
    with _LOCK:
        if key not in _LOADED:
            if not _LOADED:
                atexit.register(_close_all)
            _LOADED[key] = LlamaModel(path, n_ctx, threads)
        return _LOADED[key]


@dataclass
class LlamaLoaded:
    """A llama.cpp model where the transformers engine expects a loaded model (kind, chat template, context)."""

    llama: LlamaModel
    kind: str = "causal"

    @property
    def has_chat_template(self) -> bool:
        return self.llama.has_chat_template

    @property
    def context(self) -> int:
        return self.llama.context


class LlamaGenerator:
    """The engine's generator interface on llama.cpp: greedy, one prompt at a time.

    llama.cpp on a CPU gains little from batching different prompts (the weights are read per
    token either way, and 2 cores are busy with one prompt), so prompts run one after another.
    """

    def __init__(self, loaded: LlamaLoaded, max_new_tokens: int, timeout_seconds: float) -> None:
        self.llama = loaded.llama
        self.max_new_tokens = max_new_tokens
        self.timeout_seconds = timeout_seconds
        self.calls = 0

    def as_prompt(self, user_text: str) -> str:
        return self.llama.chat_prompt(user_text)

    def count(self, text: str) -> int:
        return self.llama.count(text)

    @property
    def input_limit(self) -> int:
        return max(16, self.llama.context - self.max_new_tokens)

    def generate(self, prompts: list[str], max_new_tokens: int | None = None,
                 min_new_tokens: int | None = None) -> list[Any]:
        from briefing.summarise.generation import Generated

        out = []
        for prompt in prompts:
            if not prompt.strip():
                out.append(Generated("", 0.0, False))
                continue
            with self.llama.lock:
                done = self.llama.complete(prompt, max_new_tokens or self.max_new_tokens)
            self.calls += 1
            out.append(Generated(done.text.strip(), done.seconds, done.seconds >= self.timeout_seconds,
                                 done.new_tokens))
        return out


def use_llama(cfg: Any, path: str, gguf_file: str | None) -> bool:
    """Whether a configured GGUF runs on llama.cpp: ``runtime: llama.cpp``, or ``auto`` on a CPU with it installed."""
    if not gguf_file or cfg.runtime == "transformers":
        return False
    if cfg.runtime == "llama.cpp":
        return True
    return cfg.device in ("auto", "cpu") and available() and not _gpu()


def _gpu() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())
