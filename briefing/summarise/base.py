"""The engine interface every summariser implements, and the input it takes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from briefing.models import Brief


@dataclass(frozen=True)
class Document:
    """What an engine summarises: a cleaned article."""

    title: str
    text: str


class Engine(Protocol):
    name: str
    model: str | None
    # Changes whenever prompts or selection logic change, so cached briefs are
    # reused only for the same text, model and prompt version (issue 3).
    version: str

    def summarise(self, doc: Document) -> Brief: ...

    def summarise_many(self, docs: list[Document]) -> list[Brief]: ...


def cache_key(engine: Engine, doc: Document) -> str:
    h = hashlib.sha256()
    for part in (engine.name, engine.model or "", engine.version, doc.title, doc.text):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()
