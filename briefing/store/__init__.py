"""Storage: SQLAlchemy 2.x on SQLite (default, WAL) or PostgreSQL, upgraded by Alembic."""

from briefing.store.store import Store

__all__ = ["Store"]
