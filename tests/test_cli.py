"""The CLI end to end on the bundled seeds: demo, re-runs, briefs, sources, eval."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from briefing.cli import main
from tests.support.config import SEEDS


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def seed_titles() -> set[str]:
    return {"Russian President warns against any foreign interference in Belarus",
            "Port Halden dock workers strike over automation plan",
            "Valmere approves flood barrier after record river levels",
            "Central bank holds rates as inflation stays above target",
            "New malaria vaccine cuts infections by half in children, trial finds"}


def test_demo_prints_a_brief_for_every_seed_and_is_idempotent(
        demo_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "demo", "--config", str(demo_config))
    assert code == 0, err
    for title in seed_titles():
        assert title in out
    assert "Key actors:" in out and "Vladimir Putin" in out
    exported = json.loads((tmp_path / "data" / "briefs" / "briefs.json").read_text())
    assert {b["headline"] for b in exported} == seed_titles()  # the re-published copy is folded in
    assert all(2 <= len(b["summary"]) <= 3 and b["engine"] for b in exported)
    markdown = (tmp_path / "data" / "briefs" / "briefs.md").read_text()
    assert markdown.count("\n## ") + markdown.startswith("## ") == 5

    code, out2, err2 = run(capsys, "demo", "--config", str(demo_config))
    assert code == 0
    assert "0 brief(s) written" in err2 and " 0 new" in err2
    assert len(json.loads((tmp_path / "data" / "briefs" / "briefs.json").read_text())) == 5


def test_briefs_and_sources_commands(demo_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "demo", "--config", str(demo_config))
    code, out, _ = run(capsys, "briefs", "--config", str(demo_config), "--topic", "economy", "--json")
    assert code == 0
    assert {b["headline"] for b in json.loads(out)} == {
        "Central bank holds rates as inflation stays above target",
        "New malaria vaccine cuts infections by half in children, trial finds"}
    code, out, _ = run(capsys, "briefs", "--config", str(demo_config), "--since", "1h", "--limit", "2")
    assert out.count("Source: ") == 2
    code, _, err = run(capsys, "briefs", "--config", str(demo_config), "--since", "yesterday-ish")
    assert code == 2 and "--since: expected an ISO date/time or a duration" in err
    code, out, _ = run(capsys, "sources", "--config", str(demo_config))
    assert code == 0 and "seed-articles" in out and "ledger-world" in out and "never" not in out


def test_ingest_reports_failing_sources_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "d"), "sources": [
        {"name": "gone", "kind": "folder", "path": str(tmp_path / "missing")},
        {"name": "ok", "kind": "folder", "path": str(SEEDS / "articles")}]}))
    code, _, err = run(capsys, "ingest", "--config", str(cfg))
    assert code == 1
    assert "gone: error:" in err and "folder not found" in err and "ok: 3 new" in err
    code, _, err = run(capsys, "ingest", "--config", str(cfg))
    assert "no source is due" in err  # both are waiting: one for its interval, one for its back-off


def test_eval_scores_a_small_file(tmp_path: Path, demo_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    article = (SEEDS / "articles" / "002_river-flood-defences.txt").read_text()
    lines = [{"id": str(i), "article": article, "source_dataset": ds,
              "reference": "Valmere approved a 310 million euro flood barrier on the river Aske."}
             for i, ds in enumerate(["a", "a", "b"])]
    path = tmp_path / "dev.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    code, out, _ = run(capsys, "eval", str(path), "--config", str(demo_config), "--json")
    assert code == 0
    rows = {r["dataset"]: r for r in json.loads(out)["datasets"]}
    assert set(rows) == {"a", "b"} and rows["a"]["n"] == 2 and rows["b"]["n"] == 1
    assert rows["a"]["engine"]["rouge2"] > 10 and rows["a"]["lead3"]["rouge2"] > 10
    code, out, _ = run(capsys, "eval", str(path), "--config", str(demo_config), "--engine", "lead-3")
    assert code == 0 and "engine: lead-3" in out
    path.write_text('{"id": 1}\n')
    code, _, err = run(capsys, "eval", str(path), "--config", str(demo_config))
    assert code == 1 and "dev.jsonl:1: expected a JSON object with id, article, reference" in err


def test_version_and_common_options_before_or_after_the_command(
        demo_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("briefing 0.")
    other = tmp_path / "other-data"
    code, _, err = run(capsys, "--config", str(demo_config), "--data-dir", str(other), "--log-level", "ERROR",
                       "demo")
    assert code == 0, err
    assert (other / "briefs" / "briefs.json").is_file()  # the option given before the command applied
    code, out, _ = run(capsys, "--config", str(demo_config), "briefs", "--data-dir", str(other), "--limit", "1")
    assert code == 0 and out.count("Source: ") == 1


def test_an_unwritable_data_dir_is_one_line_not_a_traceback(
        demo_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, out, err = run(capsys, "demo", "--config", str(demo_config), "--data-dir", str(blocker / "data"))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "data_dir" in err and "cannot create" in err


def test_a_read_only_data_dir_is_one_line_not_a_traceback(
        demo_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):
        pytest.skip("running as a user who can write anywhere (root): permissions cannot be tested")
    code, _, err = run(capsys, "ingest", "--config", str(demo_config), "--data-dir", str(locked))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not writable" in err
