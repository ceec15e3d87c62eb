"""``briefing eval``: the engine beside Lead-3 with paired intervals, and cross-validated settings.

The pairs are written here (two made-up "datasets" of short news items with one-line
references); the suite never reads ../shared/eval.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from briefing.config import Config
from briefing.models import Brief
from briefing.evaluation.crossval import cross_validate, default_grid, folds_of, format_cv, progress_steps
from briefing.evaluation.evaluate import Column, Example, Extra, Lead3, bootstrap, evaluate, format_table
from briefing.summarise import Document

REPO = Path(__file__).resolve().parents[1]
TOWNS = ["Ashby", "Brill", "Corfe", "Dunster", "Eyam", "Frome", "Goring", "Hythe"]


def _pairs() -> list[Example]:
    out = []
    for i, town in enumerate(TOWNS):
        article = (f"The council of {town} voted on Monday to close the old coal plant by 2030 after a long campaign. "
                   f"About {100 + i} workers at the plant in {town} will be offered retraining, the council said. "
                   f"Local unions welcomed the retraining offer but said the closure date was far too early. "
                   f"The plant has burned coal for sixty years and supplies a tenth of the region's power. "
                   f"Campaigners in {town} celebrated outside the town hall until late in the evening.")
        reference = f"{town} council votes to close its coal plant by 2030 and to retrain workers."
        out.append(Example(f"id{i}", article, reference, "cnn_like (test)" if i % 2 else "xsum_like (test)"))
    return out


def test_bootstrap_interval_is_around_the_mean_and_reproducible() -> None:
    diffs = [1.0, 2.0, 3.0, 4.0, 5.0, 0.0, -1.0, 2.0]
    a, b = bootstrap(diffs), bootstrap(diffs)
    assert a == b
    assert a.diff == pytest.approx(2.0)
    assert a.low < a.diff < a.high
    assert bootstrap([0.5] * 10).low == pytest.approx(0.5) == bootstrap([0.5] * 10).high


def test_eval_puts_the_engine_beside_lead3_on_the_same_pairs() -> None:
    result = evaluate(Config(), _pairs())
    assert [d.dataset for d in result.datasets] == ["cnn_like", "xsum_like"]
    for d in result.datasets:
        assert d.n == 4 and d.baseline is not None and d.baseline.name == "lead-3"
        assert set(d.diffs) == {"rouge1", "rouge2", "rougeLsum"}
        for key, interval in d.diffs.items():
            assert interval.diff == pytest.approx(d.engine.means[key] - d.baseline.means[key])
            assert interval.low <= interval.diff <= interval.high
        assert d.engine.means["words"] and d.baseline.means["words"]
        assert d.engine.means["seconds"] is not None
    table = format_table(result)
    assert "lead-3" in table and "difference, 95% interval" in table and "1000 resamples" in table
    assert "selector: lead, 3 sentences, no word budget" in table


def test_an_engine_adds_its_own_columns_without_changing_eval() -> None:
    class Gisty:
        name, model, version = "gisty", None, "1"

        def summarise(self, doc: Document) -> Brief:
            brief = Lead3().summarise(doc)
            brief.engine, brief.headline = self.name, doc.text.split(".")[0]
            return brief

        def summarise_many(self, docs: list[Document]) -> list[Brief]:
            return [self.summarise(d) for d in docs]

        def eval_extras(self) -> list[Extra]:
            return [Extra(lambda s: {"headline_words": float(len(s.brief.headline.split()))},
                          (Column("headline_words", "hl words"),))]

    result = evaluate(Config(), _pairs(), engine=Gisty())
    assert "hl words" in format_table(result)
    assert result.datasets[0].engine.means["headline_words"] > 5
    assert json.loads(result.to_json())["datasets"][0]["engine"]["headline_words"] > 5


def test_folds_are_stratified_by_dataset() -> None:
    folds = folds_of(_pairs(), 2)
    for name in ("cnn_like", "xsum_like"):
        mine = [f for f, ex in zip(folds, _pairs()) if ex.dataset == name]
        assert sorted(mine) == [0, 0, 1, 1]


def test_cross_validation_reports_only_held_out_folds() -> None:
    calls: list[int] = []
    result = cross_validate(_pairs(), k=2, grid=default_grid(pacsum=False), progress=lambda: calls.append(1))
    assert len(calls) == progress_steps(len(_pairs()), 2)  # the progress bar ends full, not at the last article
    assert {(r.fold, r.dataset) for r in result.rows} == {(1, "cnn_like"), (1, "xsum_like"),
                                                          (2, "cnn_like"), (2, "xsum_like")}
    assert all(r.n == 2 for r in result.rows)  # each score is on the two pairs left out
    text = format_cv(result)
    assert "held-out" in text and "mean ± sd across held-out folds" in text and "chosen on all pairs" in text
    labels = {s.label() for s in default_grid(pacsum=False)}
    assert all(r.setting in labels for r in result.rows) and result.chosen_on_all.label() in labels


def test_cli_eval_and_folds(tmp_path: Path) -> None:
    data = tmp_path / "pairs.jsonl"
    data.write_text("\n".join(json.dumps({"id": e.id, "article": e.article, "reference": e.reference,
                                          "source_dataset": e.source_dataset}) for e in _pairs()))
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
           "BRIEFING_CONFIG": str(REPO / "config.yaml")}
    run = subprocess.run([sys.executable, "-m", "briefing", "eval", str(data), "--folds", "2"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "2-fold cross-validation" in run.stdout and "setting chosen on the other folds" in run.stdout
    bad = subprocess.run([sys.executable, "-m", "briefing", "eval", str(data), "--folds", "1"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=600)
    assert bad.returncode != 0 and "--folds" in bad.stderr
