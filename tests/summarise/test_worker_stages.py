"""The worker's two-stage work for /summary: the quick brief first, the gist after, both ahead of scheduled work."""

from __future__ import annotations

import dataclasses
import threading

from briefing.models import Brief
from briefing.summarise.base import Document
from briefing.summarise.worker import Priority, SummariserWorker


class TwoStage:
    """An engine with ``first`` and ``improve`` (as GistEngine has); records the order of work."""

    name, model, version = "two-stage", None, "1"

    def __init__(self) -> None:
        self.log: list[str] = []
        self.lock = threading.Lock()

    def first(self, doc: Document) -> Brief:
        self.log.append(f"first {doc.title}")
        return Brief(doc.title, [doc.text], [], self.name)

    def improve(self, brief: Brief, doc: Document) -> Brief:
        self.log.append(f"improve {doc.title}")
        return dataclasses.replace(brief, gist=f"gist of {doc.title}")

    def summarise(self, doc: Document) -> Brief:
        return self.improve(self.first(doc), doc)

    def summarise_many(self, docs: list[Document]) -> list[Brief]:
        self.log.append(f"batch {len(docs)}")
        return [self.summarise(d) for d in docs]


async def test_first_then_improve_and_full_briefs_in_batches() -> None:
    engine = TwoStage()
    async with SummariserWorker(engine, batch_size=4) as worker:
        quick = await worker.summarise(Document("a", "text"), Priority.ON_DEMAND, stage="first")
        assert quick.gist == "" and engine.log == ["first a"]
        better = await worker.improve(quick, Document("a", "text"))
        assert better.gist == "gist of a"
        full = await worker.summarise(Document("b", "text"))
        assert full.gist == "gist of b"
    assert engine.log[:2] == ["first a", "improve a"] and "batch 1" in engine.log


async def test_an_engine_without_stages_still_answers() -> None:
    class Plain(TwoStage):
        first = None  # type: ignore[assignment]
        improve = None  # type: ignore[assignment]

        def summarise(self, doc: Document) -> Brief:
            return Brief(doc.title, [doc.text], [], self.name)

    async with SummariserWorker(Plain()) as worker:
        quick = await worker.summarise(Document("a", "t"), Priority.ON_DEMAND, stage="first")
        same = await worker.improve(quick, Document("a", "t"))
    assert quick.headline == "a" and same == quick
