"""The layers of docs/architecture.md, kept true: every module's imports, read with ``ast``.

A module may import its own package and the packages of the layers below its own, nothing else;
there is no list of exceptions. Also: no SQL session is opened outside ``briefing/store/``, the
faces reach the store only through :class:`briefing.app.App`, and the README's layout names
exactly the packages the tree has.
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


def faces() -> list[Path]:
    """The modules above the library façade: entry point, command line, service, channels."""
    return [p for p in modules() if RANK[package_of(module_name(p))] < RANK["briefing.app"]]


def _is_app_store(node: ast.AST) -> bool:
    """``app.store``, ``req.app.store``, ``self.app.store``: the App's store."""
    if not (isinstance(node, ast.Attribute) and node.attr == "store"):
        return False
    owner = node.value
    return (isinstance(owner, ast.Name) and owner.id == "app") or (isinstance(owner, ast.Attribute)
                                                                    and owner.attr == "app")


def _import_sources(tree: ast.Module) -> dict[str, str]:
    """Each name a module imports, at any depth, and the briefing module it comes from."""
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("briefing"):
            out.update({a.asname or a.name: _submodule(node.module, a.name) for a in node.names})
        elif isinstance(node, ast.Import):
            out.update({a.asname or a.name: a.name for a in node.names if a.name.startswith("briefing")})
    return out


# The one part below the façade that a face builds over the store: the digest job, wired in
# service/digests.py with the channel adapters that are on. send_due_digests takes a config and
# a store (not an App) so that the email tests run it over a bare store (tests/email/conftest.py).
BUILT_OVER_THE_STORE_BELOW = {("briefing.digest", "DigestJob")}


def _callee(call: ast.Call, sources: dict[str, str]) -> tuple[str, str] | None:
    """(module, name) of the imported function a call runs: ``f(...)``, ``mod.f(...)``, or
    ``f`` in ``req.run(f, ...)`` and ``blocking(f, ...)``, which run it off the event loop."""
    func = call.func
    runner = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if runner in ("run", "blocking") and call.args:
        func = call.args[0]
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    while isinstance(func, ast.Attribute):
        func = func.value
    module = sources.get(func.id) if isinstance(func, ast.Name) else None
    return (module, name) if module is not None else None


def _handed_over(node: ast.AST, parent: ast.AST | None, sources: dict[str, str]) -> bool:
    """The whole store given, as an argument, to a part imported from above the façade."""
    if isinstance(parent, ast.keyword):
        parent = getattr(parent, "call", None)
    if not isinstance(parent, ast.Call) or parent.func is node:
        return False
    callee = _callee(parent, sources)
    if callee is None:
        return False
    return RANK[package_of(callee[0])] < RANK["briefing.app"] or callee in BUILT_OVER_THE_STORE_BELOW


def test_the_faces_reach_the_store_only_through_the_facade() -> None:
    """The command line, the service and the channels call :class:`briefing.app.App`'s methods;
    none reads the App's store (``app.store.x``), keeps it under a name (``store = app.store``),
    or reads the story stage's store (``Stories.db``).

    The one use left is handing the whole store to a part imported from a layer above the façade,
    which App cannot offer because it may not import upward: the Telegram sender, the digest
    channels' adapters, the email channel's subscriber functions and unsubscribe endpoint, the
    service's sender lease (and the digest job, see :data:`BUILT_OVER_THE_STORE_BELOW`). Everything else
    of App's own layers and below is reached through an App method.
    """
    wrong = []
    for path in faces():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        sources = _import_sources(tree)
        parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
                if isinstance(child, ast.keyword) and isinstance(node, ast.Call):
                    child.call = node  # type: ignore[attr-defined]  # the call a keyword argument belongs to
        for node in ast.walk(tree):
            store_read = _is_app_store(node) and not _handed_over(node, parents.get(node), sources)
            if store_read or (isinstance(node, ast.Attribute) and node.attr == "db"):
                wrong.append(f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)}")
    assert not wrong, "faces reaching into the store past briefing/app.py:\n" + "\n".join(wrong)


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
