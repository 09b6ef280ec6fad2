"""Where the Patronage database lives: engines for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect.blocks.core import Block
from pydantic import ConfigDict, Field, SecretStr, field_validator
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from patronage.config.locations import default_database_url

if TYPE_CHECKING:
    from alembic.config import Config


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


FIRST_RELEASE = "0001"  # the layout databases had before migrations existed


def alembic_config(connection: Connection) -> Config:
    """Alembic configuration running ``schemas/migrations`` on ``connection``."""
    from alembic.config import Config

    import patronage.schemas.migrations

    config = Config()
    config.set_main_option(
        "script_location", str(Path(patronage.schemas.migrations.__file__).parent)
    )
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration's revision id."""
    from alembic.script import ScriptDirectory

    import patronage.schemas.migrations

    script = ScriptDirectory(str(Path(patronage.schemas.migrations.__file__).parent))
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


# Engines whose database was at the head revision: only ensure_schema moves a schema, and only
# forward, so they need no second look (the web page calls it on every request).
_AT_HEAD: weakref.WeakSet[Engine] = weakref.WeakSet()


def forget_schema_check(engine: Engine) -> None:
    """Make ``ensure_schema`` look at the database again (after a manual Alembic downgrade)."""
    _AT_HEAD.discard(engine)


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

    if engine in _AT_HEAD:
        return
    with engine.connect() as conn:
        if _current_revision(conn) == head_revision():
            _AT_HEAD.add(engine)
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
    _AT_HEAD.add(engine)


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


class PatronageDatabase(Block):
    """The Patronage database: where the nightly publishes and people work the queues.

    Save one per environment (``patronage db save-block NAME --url …``) and pick it by name in
    the Prefect UI (the nightly's ``database_block``) or with ``--database-block`` on the CLI.
    It is the one place that knows the URL and the password and that creates and disposes
    engines; every reader, the publisher, the CLI and the work API go through it. The password
    is read when an engine is made, inside the task that connects, never passed as a parameter.
    """

    # A refused URL (one with a password in it) must not be repeated in the error.
    model_config = ConfigDict(hide_input_in_errors=True)

    _block_type_name = "Patronage Database"
    _block_type_slug = "patronage-database"
    _description = "Where Patronage publishes its queues (SQLite or PostgreSQL)."

    url: str | None = Field(
        None,
        description="SQLAlchemy URL without a password, e.g. postgresql+psycopg://patronage@db/patronage. Empty: $PATRONAGE_DATABASE_URL of the process, else SQLite at $PATRONAGE_HOME/patronage.db.",
    )
    password: SecretStr | None = Field(
        None, description="The database password (kept encrypted by Prefect), if it needs one."
    )
    password_secret: str | None = Field(
        None, description="Or: name of a Prefect Secret block holding the password."
    )

    @field_validator("url")
    @classmethod
    def _no_password_in_url(cls, value: str | None) -> str | None:
        if value and make_url(value).password:
            raise ValueError(
                "url must not contain a password (it would show in the Prefect UI); give it in "
                "password or name a Secret block in password_secret"
            )
        return value

    @property
    def resolved_url(self) -> str:
        """The URL in use (without a password)."""
        return self.url or default_database_url()

    def describe(self) -> str:
        """The URL with any password masked: for messages and logs."""
        return make_url(self.resolved_url).render_as_string(hide_password=True)

    def exists(self) -> bool:
        """False only for a SQLite file that is not there yet (reading must not create it)."""
        return database_exists(self.resolved_url)

    def make_engine(self) -> Engine:
        """A new engine; the caller disposes of it (prefer ``engine()``)."""
        password = (
            self.password.get_secret_value() if self.password else load_secret(self.password_secret)
        )
        return make_engine(self.resolved_url, password)

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        """An engine that is disposed of when the block ends."""
        engine = self.make_engine()
        try:
            yield engine
        finally:
            engine.dispose()

    def read_if_published(self, table_name: str, query, columns: list[str]):
        """Rows of ``query`` from a Patronage table, or an empty frame with ``columns`` when
        nothing was published yet (the database or table is missing). Never creates the database;
        one published by an earlier release is first brought to the newest schema, so a query
        may name columns that release did not have.

        Args:
            table_name: The table the query reads; its absence means "nothing yet".
            query: A SQLAlchemy selectable.
            columns: Columns of the empty frame.
        """
        import pandas as pd
        from sqlalchemy import inspect

        from patronage.resources.sql_read import read_frame

        if not self.exists():
            return pd.DataFrame(columns=columns)
        with self.engine() as engine:
            if not inspect(engine).has_table(table_name):
                return pd.DataFrame(columns=columns)
            ensure_schema(engine)
            with engine.connect() as conn:
                return read_frame(conn, query)
