"""Storage: SQLAlchemy 2.x on SQLite (default, WAL) or PostgreSQL, upgraded by Alembic.

The floor of the package: it imports nothing of briefing but :mod:`briefing.models` and
:mod:`briefing.errors`, and nothing outside it writes SQL (``docs/architecture.md``).
"""

from briefing.store.store import SUBSCRIPTION_KINDS, Store

__all__ = ["SUBSCRIPTION_KINDS", "Store"]
