"""Alembic environment: run by :func:`briefing.store.db.upgrade` with a live connection."""

from alembic import context

from briefing.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the library calls us
    raise RuntimeError("briefing migrations run through briefing.store.db.upgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
