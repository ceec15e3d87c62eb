"""Service: the library API that ties the stages together (used by the CLI, bot and scheduler)."""

from briefing.service.app import App, SummariseReport

__all__ = ["App", "SummariseReport"]
