"""Where the Patronage database lives: engines for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from schemas.tables import metadata


def make_engine(database_url: str, password: str | None = None) -> Engine:
    """An engine for ``database_url``; PostgreSQL needs the ``postgres`` extra (psycopg).

    Args:
        database_url: SQLAlchemy URL without a password, e.g. ``sqlite:///patronage.db`` or
            ``postgresql+psycopg://patronage@db/patronage``.
        password: Password to add, loaded from a Secret block by the caller.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                "PostgreSQL needs psycopg: pip install 'patronage[postgres]'") from exc
    if password:
        url = url.set(password=password)
    engine = create_engine(url, future=True)
    if url.get_backend_name() == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - wiring
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
    return engine


class SchemaMismatchError(RuntimeError):
    """The database holds Patronage tables from another version."""


@contextmanager
def engine_for(database_url: str, password: str | None = None) -> Iterator[Engine]:
    """An engine that is disposed of when the block ends."""
    engine = make_engine(database_url, password)
    try:
        yield engine
    finally:
        engine.dispose()


def ensure_schema(engine: Engine) -> None:
    """Create missing tables (idempotent); refuse, naming table and columns, an older layout."""
    from sqlalchemy import inspect

    metadata.create_all(engine)
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        missing = [c.name for c in table.columns if c.name not in present]
        if missing:
            raise SchemaMismatchError(
                f"{engine.url.render_as_string(hide_password=True)}: table {table.name} lacks "
                f"column(s) {', '.join(missing)}; it was created by an older Patronage. Point "
                "database_url at a new database (or move the old file aside).")


def load_secret(block_name: str | None) -> Any:
    """The value of a Prefect Secret block, or None without a name.

    Call it inside the task that uses the value, so it never travels as a parameter.
    """
    if not block_name:
        return None
    from prefect.blocks.system import Secret

    return Secret.load(block_name).get()


def database_exists(database_url: str) -> bool:
    """False only for a SQLite file that is not there yet (reading must not create it)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return True
    from pathlib import Path

    return Path(url.database).exists()


def read_if_published(database_url: str, password_secret: str | None, table_name: str,
                      query, columns: list[str]):
    """Rows of ``query`` from a Patronage table, or an empty frame with ``columns`` when nothing
    was published yet (the database or table is missing). Never creates the database.

    Args:
        database_url: Patronage database.
        password_secret: Secret block with its password, if any.
        table_name: The table the query reads; its absence means "nothing yet".
        query: A SQLAlchemy selectable.
        columns: Columns of the empty frame.
    """
    import pandas as pd
    from sqlalchemy import inspect

    if not database_exists(database_url):
        return pd.DataFrame(columns=columns)
    engine = make_engine(database_url, load_secret(password_secret))
    try:
        if not inspect(engine).has_table(table_name):
            return pd.DataFrame(columns=columns)
        with engine.connect() as conn:
            return pd.read_sql(query, conn)
    finally:
        engine.dispose()
