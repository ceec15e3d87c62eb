"""Summarise: engines that turn an article into a brief, behind one interface."""

from __future__ import annotations

import logging

from briefing.config import SummariserConfig
from briefing.errors import ConfigError, ModelUnavailableError
from briefing.summarise.base import Document, Engine, cache_key

log = logging.getLogger(__name__)


def build_engine(cfg: SummariserConfig) -> Engine:
    """The configured engine, with the model-written gist when ``summariser.gist`` is on.

    The ``openai`` engine's gist comes from its server, never from ``summariser.gist_model``.
    """
    if cfg.engine == "openai":
        from briefing.summarise.openai_engine import build_openai_engine

        return build_openai_engine(cfg)
    engine = _build_engine(cfg)
    if cfg.gist:
        from briefing.summarise.gist_engine import with_gist

        engine = with_gist(cfg, engine)
    return engine


def _build_engine(cfg: SummariserConfig) -> Engine:
    """The configured engine. Engines load their models here, once per process.

    When the model of a ``transformers`` or ``hybrid`` engine is unavailable, the one-paragraph
    explanation is logged and, with ``fallback: extractive``, the extractive engine is returned:
    its briefs say ``engine: extractive``, so a reader sees which engine made them.
    """
    from briefing.summarise.extractive import ExtractiveEngine

    if cfg.engine == "extractive":
        return ExtractiveEngine(cfg)
    if cfg.engine not in ("transformers", "hybrid"):
        raise ConfigError(f"summariser.engine: engine {cfg.engine!r} is not available in this build")
    from briefing.summarise.loader import load_engine_model
    from briefing.summarise.prompts import load_prompts

    prompts = load_prompts(cfg.prompts_dir)  # a bad template stops start-up, model or not
    extractive = ExtractiveEngine(cfg)
    try:
        lm = load_engine_model(cfg)
    except ModelUnavailableError as exc:
        if cfg.fallback == "none":
            raise
        log.warning("%s", exc)
        return extractive
    if cfg.engine == "hybrid":
        from briefing.summarise.hybrid import HybridEngine

        return HybridEngine(cfg, lm=lm, extractive=extractive, prompts=prompts)
    from briefing.summarise.transformers_engine import TransformersEngine

    return TransformersEngine(cfg, lm=lm, extractive=extractive, prompts=prompts)


__all__ = ["Document", "Engine", "build_engine", "cache_key"]
