"""The package installs right anywhere: every import declared, and a built wheel that works on its own."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from tests.support.config import REPO


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    """Runtime dependencies and the optional runtime extras (e.g. ``gist``), not the test tools."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = [dep for name, deps in project.get("optional-dependencies", {}).items() if name != "test" for dep in deps]
    return {_norm(re.split(r"[\s\[<>=!~;]", dep, maxsplit=1)[0]) for dep in [*project["dependencies"], *extras]}


def _imported_top_level() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "briefing").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"briefing", "__future__"}


# Modules of optional extras whose distribution may be absent here (then importlib cannot name it).
NOT_ALWAYS_INSTALLED = {"llama_cpp": ["llama-cpp-python"]}


def test_every_imported_package_is_a_declared_dependency() -> None:
    dists = packages_distributions()
    declared = _declared()
    missing = {}
    for module in sorted(_imported_top_level()):
        providers = {_norm(d) for d in dists.get(module) or NOT_ALWAYS_INSTALLED.get(module, [module])}
        if not providers & declared:
            missing[module] = sorted(providers)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_dependencies_the_code_needs_are_declared_with_floors_it_works_with() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    deps = project["project"]["dependencies"]
    assert any(d.startswith("lxml_html_clean") for d in deps)  # pip 23 does not resolve lxml[html_clean]
    assert any(re.match(r"trafilatura>=2\b", d) for d in deps)  # 1.x returns a dict the extractor rejects
    assert not any("[rate-limiter]" in d for d in deps)
    assert project["project"]["license"] == "MIT"  # SPDX form (PEP 639)
    constraints = (REPO / "constraints.txt").read_text()
    for dep in ("trafilatura", "lxml_html_clean", "python-telegram-bot", "torch"):
        assert re.search(rf"^{re.escape(dep)}==", constraints, re.MULTILINE | re.IGNORECASE), dep


@pytest.mark.timeout(600)
def test_the_built_wheel_runs_the_demo_outside_the_repo(tmp_path: Path) -> None:
    """Build the wheel, install it alone in a fresh venv, run `briefing demo` in an empty directory.

    The fresh venv gets no system site-packages and no editable install; the third-party
    packages (torch, spaCy, ...) come from this interpreter's site-packages through a path
    entry, so the test takes seconds instead of a full download, but `briefing` and its data
    files can only come from the wheel.
    """
    dist = tmp_path / "dist"
    # setuptools builds in REPO/build (git-ignored): a stale copy of a removed module must not ship.
    shutil.rmtree(REPO / "build", ignore_errors=True)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "--quiet", "-w", str(dist), str(REPO)], capture_output=True, text=True,
                           timeout=300, cwd=tmp_path)
    assert build.returncode == 0, build.stderr
    wheel = next(dist.glob("briefing-*.whl"))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps",
                              "--no-index", "--quiet", str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    # Only the dependencies come from here; a plain path entry does not run the editable finder.
    (site / "shared-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BRIEFING_CONFIG")}
    env["HF_HUB_OFFLINE"] = "1"
    where = subprocess.run([str(py), "-c", "import briefing; print(briefing.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, timeout=60)
    assert where.stdout.strip().startswith(str(site)), where.stdout + where.stderr

    version = subprocess.run([str(venv / "bin" / "briefing"), "--version"], cwd=work, env=env,
                             capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("briefing 0."), version.stderr

    demo = subprocess.run([str(venv / "bin" / "briefing"), "demo"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=400)
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "Port Halden dock workers strike over automation plan" in demo.stdout
    assert (work / "data" / "briefs" / "briefs.json").is_file()

    # A model engine finds its prompt templates inside the installed package.
    prompts = subprocess.run(
        [str(py), "-c", "from briefing.config import SummariserConfig as C; from briefing.summarise.prompts "
                        "import load_prompts; p = load_prompts(C().prompts_dir); print(p.folder, len(p.templates))"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert prompts.returncode == 0, prompts.stderr[-2000:]
    folder, count = prompts.stdout.split()
    assert folder.startswith(str(site)) and int(count) >= 6
