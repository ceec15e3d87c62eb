"""Shared fixtures: a network guard, databases (SQLite always, PostgreSQL when configured), configs."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

# Never call the Hugging Face hub from tests (DEVELOPERS.md).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from briefing.config import Config  # noqa: E402
from briefing.store import Store  # noqa: E402
from tests.support.config import REPO, make_config  # noqa: E402

if TYPE_CHECKING:
    from briefing.summarise import Engine

# The shared harnesses' fixtures (http_server, botapi, smtp_server), registered here only.
pytest_plugins = ["tests.support.fixtures"]

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_address(sock: socket.socket, address: object) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
        return
    host = str(address[0]).split("%")[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise RuntimeError(f"test tried to connect to {host!r} by name") from None
    if not ip.is_loopback:
        raise RuntimeError(f"test tried to reach the internet ({host}); tests must stay on localhost")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check_address(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check_address(self, address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_internet() -> Iterator[None]:
    """A test that would reach the internet fails instead."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


def _postgres_url() -> str | None:
    return os.environ.get("BRIEFING_TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A private schema in the test PostgreSQL database, dropped afterwards."""
    url = _postgres_url()
    if not url:
        pytest.skip("PostgreSQL not configured: set BRIEFING_TEST_DATABASE_URL (e.g. "
                    "postgresql://postgres@127.0.0.1:5432/test) to run the PostgreSQL storage tests")
    from sqlalchemy import text

    from briefing.store.db import make_engine

    schema = f"briefing_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'briefing.db'}"
        return
    base = request.getfixturevalue("postgres_schema_url")
    from sqlalchemy import text

    from briefing.store.db import make_engine

    yield base
    engine = make_engine(base)  # empty the private schema for the next test
    with engine.begin() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
        for table in list(tables):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'briefing.db'}")
    yield s
    s.close()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture(scope="session")
def engine() -> "Engine":
    """The real extractive engine, loaded once per session (spaCy takes about a second)."""
    from briefing.summarise import build_engine

    return build_engine(make_config(REPO).summariser)


@pytest.fixture
def demo_config(tmp_path: Path) -> Path:
    """The shipped config with the seeds at their absolute path and data in tmp_path."""
    data = yaml.safe_load((REPO / "config.yaml").read_text())
    for src in data["sources"]:
        src["path"] = str(REPO / src["path"])
    data["data_dir"] = str(tmp_path / "data")
    # No gist model here (tests never depend on one): the shipped gist setting falls back cleanly.
    data.setdefault("summariser", {})["models_dir"] = str(tmp_path / "models")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path
