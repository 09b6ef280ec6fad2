"""Alembic environment: runs on the connection that ``patronage.resources.database.ensure_schema`` (or
``patronage db upgrade``) hands over in ``config.attributes["connection"]``."""

from __future__ import annotations

from alembic import context

from patronage.schemas.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters tables by copying them; batch mode does that for us.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
