"""The summariser inside the product: cached briefs, `briefing eval`, `briefing model`, the worker."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest

from briefing.cli import main
from briefing.errors import SummariseError
from briefing.models import ArticleDraft, Brief
from briefing.app import App
from briefing.summarise import build_engine
from briefing.summarise.base import Document
from briefing.summarise.worker import Priority, SummariserWorker
from tests.summarise.conftest import tiny_cfg
from tests.support.config import SEEDS, make_config


def test_cached_brief_is_reused_not_regenerated(tiny_causal: Path, tmp_path: Path, seed_doc: Document) -> None:
    config = make_config(tmp_path, summariser=tiny_cfg(tiny_causal).model_dump())
    with App(config) as app:
        first = app.store.add_article(ArticleDraft(url="file:///a", title=seed_doc.title, text=seed_doc.text),
                                      source_name=None, fingerprint=[])
        assert first is not None
        engine = app.engine
        _, brief, reused = app.summarise_article(first)
        calls = engine.gen.calls  # type: ignore[attr-defined]
        # Same text, model and prompt version: the stored brief comes back, the model is not run.
        _, brief2, reused2 = app.summarise_article(app.store.get_article(first.id))  # type: ignore[arg-type]
        assert (reused, reused2) == (False, True)
        assert brief2.summary == brief.summary and brief2.engine == "transformers"
        assert engine.gen.calls == calls  # type: ignore[attr-defined]


def test_eval_on_a_three_line_file_reports_guard_statistics(
        tiny_causal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    article = (SEEDS / "articles" / "002_river-flood-defences.txt").read_text(encoding="utf-8")
    lines = [{"id": str(i), "article": article, "source_dataset": ds,
              "reference": "Valmere approved a 310 million euro flood barrier on the river Aske."}
             for i, ds in enumerate(["cnn", "cnn", "xsum"])]
    data = tmp_path / "three.jsonl"
    data.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\nsummariser:\n  max_new_tokens: 8\n", encoding="utf-8")
    code = main(["eval", str(data), "--config", str(cfg), "--engine", "hybrid", "--model", str(tiny_causal), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["engine"] == "hybrid" and result["model"] == str(tiny_causal)
    assert [(d["dataset"], d["n"]) for d in result["datasets"]] == [("cnn", 2), ("xsum", 1)]
    for d in result["datasets"]:
        mine = d["engine"]
        assert mine["rouge2"] > 5 and mine["grounded"] == 100  # and every actor grounded
        assert mine["dropped"] is not None and mine["empty"] == 0
        assert d["lead3"]["rouge2"] is not None and set(d["difference"]) == {"rouge1", "rouge2", "rougeLsum"}


def test_model_info_reports_kind_and_a_missing_model(
        tiny_seq2seq: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    assert main(["model", "info", "--config", str(cfg), "--model", str(tiny_seq2seq)]) == 0
    out = capsys.readouterr().out
    assert "kind:        encoder-decoder" in out and "loads:       yes" in out
    assert main(["model", "info", "--config", str(cfg), "--model", "example-org/not-cached"]) == 1
    out = capsys.readouterr().out
    assert "loads:       no" in out and "briefing model fetch --model example-org/not-cached" in out


class _SlowEngine:
    """A real engine's interface with a visible order of work (the worker is engine-agnostic)."""

    name, model, version = "slow", None, "1"

    def __init__(self) -> None:
        self.order: list[str] = []
        self.threads: set[str] = set()
        self.batches: list[int] = []

    def summarise_many(self, docs: list[Document]) -> list[Brief]:
        self.threads.add(threading.current_thread().name)
        self.batches.append(len(docs))
        time.sleep(0.05)
        self.order += [d.title for d in docs]
        return [Brief(headline=d.title, summary=[d.text], actors=[], engine=self.name) for d in docs]

    def summarise(self, doc: Document) -> Brief:
        return self.summarise_many([doc])[0]


async def test_on_demand_request_jumps_ahead_of_scheduled_work() -> None:
    engine = _SlowEngine()
    async with SummariserWorker(engine, queue_size=8, batch_size=2) as worker:
        scheduled = [asyncio.create_task(worker.summarise(Document(f"s{i}", "text"))) for i in range(6)]
        await asyncio.sleep(0.01)  # the first batch is running
        urgent = await worker.summarise(Document("urgent", "text"), priority=Priority.ON_DEMAND)
        await asyncio.gather(*scheduled)
    assert urgent.headline == "urgent"
    assert engine.order.index("urgent") <= 3  # right after the batch that was already running
    assert engine.threads and "MainThread" not in engine.threads  # model work is off the event loop
    assert max(engine.batches) == 2


async def test_full_queue_makes_callers_wait_and_time_limit_fails_the_job() -> None:
    engine = _SlowEngine()
    async with SummariserWorker(engine, queue_size=1, timeout_seconds=0.01) as worker:
        results = await asyncio.gather(*(worker.summarise(Document(f"d{i}", "t")) for i in range(3)),
                                       return_exceptions=True)
    assert all(isinstance(r, Exception) and "longer than" in str(r) for r in results)


async def test_real_engine_through_the_worker(tiny_seq2seq: Path, seed_doc: Document) -> None:
    engine = build_engine(tiny_cfg(tiny_seq2seq))
    async with SummariserWorker(engine, queue_size=2) as worker:
        brief = await worker.summarise(seed_doc, priority=Priority.ON_DEMAND)
    assert brief.engine == "transformers" and brief.summary


async def test_stop_during_a_batch_fails_its_callers_and_does_not_block() -> None:
    """A shutdown while the model works: every caller hears why, and the event loop stays free."""
    engine = _SlowEngine()
    engine.summarise_many = lambda docs: time.sleep(1.0) or []  # type: ignore[method-assign]
    worker = await SummariserWorker(engine, queue_size=4).start()
    running = asyncio.create_task(worker.summarise(Document("running", "t")))
    queued = asyncio.create_task(worker.summarise(Document("queued", "t")))
    await asyncio.sleep(0.01)  # "running" is in the model thread
    started = time.perf_counter()
    await worker.stop()
    assert time.perf_counter() - started < 0.5  # did not wait for the 1 s model call
    for task in (running, queued):
        with pytest.raises(SummariseError, match="worker stopped"):
            await asyncio.wait_for(task, 1)
