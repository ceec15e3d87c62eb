"""What every part of the store shares: the engine, one transaction at a time, and the one place
a database error is wrapped and classified (issue 11).

Nothing outside ``briefing/store/`` opens a session: each domain module (sources, articles,
briefs, subscribers, outbox, runtime, stories) holds its own SQL and returns the plain frozen
records of :mod:`briefing.models`, never ORM rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from briefing.errors import StoreBusy, StoreConflict, StoreError
from briefing.store.db import make_engine, upgrade

R = TypeVar("R")


def store_error(exc: SQLAlchemyError) -> StoreError:
    """The one place a database error becomes ours, by the action it calls for.

    Locked, busy or unreachable (SQLite "database is locked" after the busy timeout, a dropped
    PostgreSQL connection, an exhausted pool) is :class:`StoreBusy`: nothing was written and
    :func:`briefing.errors.classify` reads it as "retry later" (issues 8, 11). A broken uniqueness
    rule is :class:`StoreConflict`; anything else is a plain :class:`StoreError`.
    """
    if isinstance(exc, IntegrityError):
        return StoreConflict(f"already stored: {exc.orig or exc}")
    if isinstance(exc, (OperationalError, PoolTimeout)) or (
            isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return StoreBusy(f"database busy or unreachable, try again later: {getattr(exc, 'orig', None) or exc}")
    return StoreError(f"database error: {exc}")


def record(cls: type[R], row: Any) -> R:
    """An ORM row as the plain frozen record ``cls`` (same field names as the columns)."""
    values = {}
    for f in fields(cls):  # type: ignore[arg-type]
        value = getattr(row, f.name)
        values[f.name] = list(value) if isinstance(value, list) else value
    return cls(**values)


class StoreBase:
    """A database opened at the newest schema, and its transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls: type[R], url: str) -> R:
        engine = make_engine(url)
        upgrade(engine)
        return cls(engine)  # type: ignore[call-arg]

    def close(self) -> None:
        self.engine.dispose()

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def _insert(self, table: Any) -> Any:
        """INSERT for this backend, with ``ON CONFLICT`` (both dialects have it)."""
        return (pg_insert if self.is_postgresql else sqlite_insert)(table)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed at the end, rolled back on any error; every database error
        leaves as a :class:`StoreError` classified by :func:`store_error`. For the store's own
        modules (and tests); the rest of the library calls the store's methods."""
        try:
            with self._sessions() as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise store_error(exc) from exc
