"""Ingest: fetch sources, extract and clean full text, drop duplicates."""

from briefing.ingest.fetch import Fetcher, FetchResult
from briefing.ingest.update import AddResult, Ingester, PollReport

__all__ = ["AddResult", "Fetcher", "FetchResult", "Ingester", "PollReport"]
