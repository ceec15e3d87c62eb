"""Summarise: engines that turn an article into a brief, behind one interface."""

from __future__ import annotations

from briefing.config import SummariserConfig
from briefing.errors import ConfigError
from briefing.summarise.base import Document, Engine, cache_key


def build_engine(cfg: SummariserConfig) -> Engine:
    """The configured engine. Engines load their models here, once per process."""
    if cfg.engine == "extractive":
        from briefing.summarise.extractive import ExtractiveEngine

        return ExtractiveEngine(cfg)
    raise ConfigError(f"summariser.engine: engine {cfg.engine!r} is not available in this build")


__all__ = ["Document", "Engine", "build_engine", "cache_key"]
