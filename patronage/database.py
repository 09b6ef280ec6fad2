"""Where the Patronage database lives: engines for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from alembic.config import Config


DATABASE_URL_VARIABLE = "PATRONAGE_DATABASE_URL"
HOME_VARIABLE = "PATRONAGE_HOME"


def patronage_home() -> Path:
    """``$PATRONAGE_HOME``, else ``~/.patronage``: where the default SQLite database lives."""
    return Path(os.environ.get(HOME_VARIABLE) or Path.home() / ".patronage").expanduser().resolve()


def default_database_url() -> str:
    """The database every entry point uses when none is given.

    ``$PATRONAGE_DATABASE_URL`` if set, else SQLite at ``$PATRONAGE_HOME/patronage.db``. It is an
    absolute location on purpose: the CLI, ``make demo``, a process worker (which runs in
    ``deployments/``) and ``patronage serve`` all find the same database whatever their working
    directory.
    """
    return os.environ.get(DATABASE_URL_VARIABLE) or f"sqlite:///{patronage_home() / 'patronage.db'}"


def make_engine(database_url: str | None = None, password: str | None = None) -> Engine:
    """An engine for ``database_url``; PostgreSQL needs the ``postgres`` extra (psycopg).

    Args:
        database_url: SQLAlchemy URL without a password, e.g. ``sqlite:////srv/patronage.db`` or
            ``postgresql+psycopg://patronage@db/patronage``; ``None`` means
            ``default_database_url()``.
        password: Password to add, loaded from a Secret block by the caller.
    """
    url = make_url(database_url or default_database_url())
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        # SQLite creates the file but not its folder (the default home may not exist yet).
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        try:
            import psycopg  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                "PostgreSQL needs psycopg: pip install 'patronage[postgres]'"
            ) from exc
    if password:
        url = url.set(password=password)
    # hide_parameters: a failed statement's error (which becomes a Prefect state message, and
    # a failure notification) must not carry the customer text or e-mails it was binding.
    engine = create_engine(url, future=True, hide_parameters=True)
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
def engine_for(database_url: str | None = None, password: str | None = None) -> Iterator[Engine]:
    """An engine that is disposed of when the block ends."""
    engine = make_engine(database_url, password)
    try:
        yield engine
    finally:
        engine.dispose()


FIRST_RELEASE = "0001"  # the layout databases had before migrations existed


def alembic_config(connection: Connection) -> Config:
    """Alembic configuration running ``schemas/migrations`` on ``connection``."""
    from alembic.config import Config

    import schemas.migrations

    config = Config()
    config.set_main_option("script_location", str(Path(schemas.migrations.__file__).parent))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration's revision id."""
    from alembic.script import ScriptDirectory

    import schemas.migrations

    script = ScriptDirectory(str(Path(schemas.migrations.__file__).parent))
    return script.get_current_head()


def lock_for_writing(conn: Connection) -> None:
    """Take the database-wide write lock for this transaction, so that concurrent writers queue
    up instead of interleaving: ``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7201)")


@lru_cache(maxsize=1)
def _first_release_columns() -> dict[str, list[str]]:
    """Each table's columns at revision 0001, read off a scratch in-memory database."""
    from alembic import command
    from sqlalchemy import inspect

    scratch = create_engine("sqlite://")
    with scratch.connect() as conn:
        command.upgrade(alembic_config(conn), FIRST_RELEASE)
        inspector = inspect(conn)
        columns = {
            t: [c["name"] for c in inspector.get_columns(t)]
            for t in inspector.get_table_names()
            if t != "alembic_version"
        }
    scratch.dispose()
    return columns


def _check_first_release_layout(
    conn: Connection, engine: Engine, expected: dict[str, list[str]], present_tables: set[str]
) -> None:
    from sqlalchemy import inspect

    where = engine.url.render_as_string(hide_password=True)
    advice = (
        "and the database has no migration history, so it cannot be upgraded. Point "
        "database_url at a new database (or move the old one aside)."
    )
    inspector = inspect(conn)
    for table in sorted(present_tables):
        present = {c["name"] for c in inspector.get_columns(table)}
        missing = [c for c in expected[table] if c not in present]
        if missing:
            raise SchemaMismatchError(
                f"{where}: table {table} lacks column(s) {', '.join(missing)} {advice}"
            )
    absent = sorted(set(expected) - present_tables)
    if absent:
        raise SchemaMismatchError(f"{where}: table(s) {', '.join(absent)} are missing {advice}")


def _current_revision(conn: Connection) -> str | None:
    from sqlalchemy import inspect, text

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine) -> None:
    """Bring the database to the newest schema with Alembic (idempotent, safe to race).

    A database made before migrations existed is recognised by its tables, checked column by
    column against the first release and stamped as such, then upgraded; anything else
    unversioned is refused with the table and columns named.

    Raises:
        SchemaMismatchError: Patronage tables of an unknown layout and no migration history.
    """
    from alembic import command
    from sqlalchemy import inspect

    with engine.connect() as conn:
        if _current_revision(conn) == head_revision():
            return
        conn.rollback()
        lock_for_writing(conn)
        config = alembic_config(conn)
        expected = _first_release_columns()
        present_tables = set(inspect(conn).get_table_names()) & set(expected)
        if _current_revision(conn) is None and present_tables:
            _check_first_release_layout(conn, engine, expected, present_tables)
            command.stamp(config, FIRST_RELEASE)
        command.upgrade(config, "head")
        conn.commit()


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
    return Path(url.database).exists()


def read_if_published(
    database_url: str, password_secret: str | None, table_name: str, query, columns: list[str]
):
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
