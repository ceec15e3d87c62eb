"""Configuration errors fail at start-up naming the file, the key path and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefing.cli import main
from briefing.config import load_config
from briefing.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def test_shipped_config_loads() -> None:
    cfg = load_config(REPO / "config.yaml")
    assert {s.kind for s in cfg.sources} == {"folder", "feed"}
    assert cfg.db_url.startswith("sqlite:///") and cfg.db_url.endswith("data/briefing.db")


def test_unknown_key_is_named_with_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, "ingest:\n  timout_seconds: 5\n")
    msg = error_of(path)
    assert f"{path}: ingest.timout_seconds: unknown key" in msg


def test_wrong_type_names_key_and_expectation(tmp_path: Path) -> None:
    msg = error_of(write(tmp_path, "ingest:\n  max_bytes: lots\n"))
    assert "ingest.max_bytes:" in msg and "integer" in msg and "'lots'" in msg


def test_bad_choice_lists_the_choices(tmp_path: Path) -> None:
    msg = error_of(write(tmp_path, "sources:\n  - name: a\n    kind: rss\n    url: http://x.test/\n"))
    assert "sources[0].kind: expected one of 'feed', 'page', 'folder' or 'auto', got 'rss'" in msg


def test_missing_required_value(tmp_path: Path) -> None:
    msg = error_of(write(tmp_path, "sources:\n  - kind: feed\n    url: http://x.test/\n"))
    assert "sources[0].name: required value is missing" in msg


def test_source_without_location(tmp_path: Path) -> None:
    msg = error_of(write(tmp_path, "sources:\n  - name: a\n    kind: folder\n"))
    assert "sources[0]: a folder source needs 'path'" in msg


def test_duplicate_source_names(tmp_path: Path) -> None:
    text = "sources:\n" + "  - {name: a, kind: page, url: 'http://x.test/'}\n" * 2
    assert "source names must be unique; repeated: a" in error_of(write(tmp_path, text))


def test_negative_limit_is_refused(tmp_path: Path) -> None:
    msg = error_of(write(tmp_path, "ingest:\n  timeout_seconds: -1\n"))
    assert "ingest.timeout_seconds:" in msg and "greater than 0" in msg


def test_a_word_budget_too_small_for_a_sentence_is_refused_and_0_means_none(tmp_path: Path) -> None:
    msg = error_of(write(tmp_path, "summariser:\n  summary_words: 5\n"))
    assert "summariser.summary_words:" in msg and "0 (no word budget" in msg
    assert load_config(write(tmp_path, "summariser:\n  summary_words: 0\n")).summariser.summary_words == 0


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    assert "configuration file not found" in error_of(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe\x00bad")
    assert f"{bad}: cannot read configuration file" in error_of(bad)


def test_invalid_yaml(tmp_path: Path) -> None:
    msg = error_of(write(tmp_path, "sources: [\n"))
    assert "not valid YAML" in msg


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    assert "expected a mapping at the top level, got list" in error_of(write(tmp_path, "- a\n- b\n"))


def test_cli_reports_config_errors_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "summariser:\n  engine: magic\n")
    assert main(["sources", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "summariser.engine: expected one of" in err and "'magic'" in err


def test_cli_options_override_config_keys(tmp_path: Path) -> None:
    from briefing.cli import build_parser, overrides

    args = build_parser().parse_args(["summarise", "--data-dir", "/tmp/x", "--engine", "extractive"])
    assert overrides(args) == {"data_dir": "/tmp/x", "summariser.engine": "extractive"}


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    sub = tmp_path / "etc"
    sub.mkdir()
    cfg = load_config(write(sub, "data_dir: state\n"))
    assert cfg.data_path == sub.resolve() / "state"


def test_prompts_dir_is_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "etc" / "my-prompts").mkdir(parents=True)
    path = write(tmp_path / "etc", "summariser:\n  prompts_dir: my-prompts\n")
    monkeypatch.chdir(tmp_path)  # run from elsewhere
    assert load_config(path).summariser.prompts_dir == str((tmp_path / "etc" / "my-prompts").resolve())
