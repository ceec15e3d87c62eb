"""The documentation contract: every command and every config key is in the README."""

from __future__ import annotations

import argparse
import re

from briefing.cli import build_parser
from briefing.config import config_keys
from tests.support.config import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_config_key_is_documented() -> None:
    documented = set(re.findall(r"^\| `([^`]+)` \|", README, re.MULTILINE))
    missing = [k for k in config_keys() if k not in documented]
    assert not missing, f"config keys missing from README.md: {missing}"
    unknown = sorted(k for k in documented if "." in k or k in ("data_dir", "database_url", "log_level")
                     if k not in config_keys() and not k.startswith("briefing"))
    assert not unknown, f"README documents keys that do not exist: {unknown}"


def test_every_command_is_documented() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, cmd in sub.choices.items():
        assert f"`briefing {name}" in README, f"`briefing {name}` is not in README.md"
        nested = [a for a in cmd._actions if isinstance(a, argparse._SubParsersAction)]
        for action in nested:
            for child in action.choices:
                assert f"`briefing {name} {child}" in README, f"`briefing {name} {child}` is not in README.md"


def test_readme_names_the_two_setup_commands() -> None:
    assert "make demo" in README and "make test" in README
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci
