"""The layers of docs/architecture.md, kept true: every module's imports, read with ``ast``.

A module may import its own package and the packages of the layers below its own, nothing else;
there is no list of exceptions. Also: no SQL session is opened outside ``briefing/store/``, and
the README's layout names exactly the packages the tree has.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.support.config import REPO

PACKAGE = REPO / "briefing"

# Top to bottom, as docs/architecture.md lists them. Packages in one layer are siblings: they
# may not import each other.
LAYERS: list[list[str]] = [
    ["briefing.__main__"],
    ["briefing.cli"],
    ["briefing.service"],
    ["briefing.deliver.telegram", "briefing.deliver.email"],
    ["briefing.app"],
    ["briefing.evaluation"],
    ["briefing.digest"],
    ["briefing.stories"],
    ["briefing.matching"],
    ["briefing.ingest", "briefing.summarise"],
    ["briefing.store"],
    ["briefing.config", "briefing.sentences", "briefing.blocking", "briefing.markup"],
    ["briefing.models", "briefing.errors", "briefing"],
]
RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    """The longest package of :data:`LAYERS` that holds ``module``."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in RANK:
            return candidate
    raise AssertionError(f"{module} is in no layer of docs/architecture.md")


def modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts]


def _submodule(base: str, name: str) -> str:
    """``from base import name``: the module base.name when there is one, else base."""
    full = f"{base}.{name}"
    path = REPO / full.replace(".", "/")
    return full if path.with_suffix(".py").exists() or path.is_dir() else base


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every briefing import, at any depth (inside functions too)."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            out += [(node.lineno, _submodule(base, a.name)) for a in node.names]
    return [(line, name) for line, name in out if name == "briefing" or name.startswith("briefing.")]


def test_every_import_follows_the_layers() -> None:
    wrong = []
    for path in modules():
        here = package_of(module_name(path))
        for line, name in imported(path):
            there = package_of(name)
            if there == here or RANK[there] > RANK[here]:
                continue
            why = "a sibling" if RANK[there] == RANK[here] else "a layer above"
            wrong.append(f"{path.relative_to(REPO)}:{line}: {here} imports {name} ({why})")
    wrong = sorted(set(wrong))
    assert not wrong, "imports against docs/architecture.md:\n" + "\n".join(wrong)


def test_every_package_is_in_the_architecture_document() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [p for p in RANK if p != "briefing" and f"`{p.removeprefix('briefing.')}" not in doc]
    assert not missing, f"packages missing from docs/architecture.md: {missing}"


def test_no_session_outside_the_store() -> None:
    """All SQL is in briefing/store/: nothing else opens a session or touches the ORM tables."""
    wrong = []
    for path in modules():
        if path.is_relative_to(PACKAGE / "store"):
            continue
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            if "session()" in line or re.search(r"\bsqlalchemy\b|briefing\.store\.(schema|stories_schema)", line):
                wrong.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not wrong, "SQL outside briefing/store/:\n" + "\n".join(wrong)


def test_the_channels_do_not_know_each_other() -> None:
    for channel, other in (("email", "telegram"), ("telegram", "email")):
        for path in sorted((PACKAGE / "deliver" / channel).rglob("*.py")):
            names = [name for _, name in imported(path)]
            text = path.read_text(encoding="utf-8")
            assert not [n for n in names if n.startswith(f"briefing.deliver.{other}")], path
            if other == "telegram":  # python-telegram-bot itself
                assert not re.search(r"^\s*(from|import) telegram\b", text, re.MULTILINE), path


def test_the_readme_layout_names_every_package() -> None:
    """README.md's layout names every folder and module of briefing/ (the two channels for
    deliver/), and nothing that is not there."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme.split("<!-- section: layout -->")[1].split("<!-- end section: layout -->")[0]
    named = {n.removesuffix("/").removesuffix(".py") for n in re.findall(r"`briefing/([\w/.]+)`", layout)}
    tree = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    tree |= {p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    tree = (tree - {"deliver"}) | {f"deliver/{p.name}" for p in (PACKAGE / "deliver").iterdir()
                                   if (p / "__init__.py").exists()}
    assert named == tree, f"README layout: missing {sorted(tree - named)}, not in the tree {sorted(named - tree)}"
