"""Prompt templates: users edit them as text; mistakes are caught at start-up, by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from briefing.errors import ConfigError
from briefing.summarise.prompts import BUNDLED, SPEC, load_prompts


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "prompts"
    shutil.copytree(BUNDLED, folder)
    return folder


def test_bundled_templates_are_valid_and_render() -> None:
    prompts = load_prompts(str(BUNDLED))
    assert set(prompts.templates) == set(SPEC)
    text = prompts.render("summary", article="The council met.", sentences=2)
    assert "The council met." in text and "2 sentences" in text


def test_unknown_placeholder_names_file_and_placeholder(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "summary.txt").write_text("Summarise $artcle in $sentences sentences.\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_prompts(str(folder))
    assert "summary.txt" in str(err.value) and "$artcle" in str(err.value)


def test_missing_required_placeholder_is_rejected(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "headline.txt").write_text("Write a headline.\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"headline\.txt: required placeholder \$article is missing"):
        load_prompts(str(folder))


def test_malformed_dollar_names_line(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "combine.txt").write_text("Parts:\n$parts\nCost: $5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"combine\.txt:3: malformed placeholder"):
        load_prompts(str(folder))


def test_editing_a_template_changes_the_version(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    before = load_prompts(str(folder)).version
    (folder / "summary.txt").write_text("Briefly: $article\n", encoding="utf-8")
    assert load_prompts(str(folder)).version != before
