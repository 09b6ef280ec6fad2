"""What every ``patronage`` command shares: the app, the console, the database options."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

# A fresh PREFECT_HOME migrates the ephemeral server's database on first start, which takes
# longer than Prefect's default 20 s on a 2-core machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

app = typer.Typer(
    help="Patronage: retention and ideation work queues from CRM and conversations.",
    no_args_is_help=True,
)
# Piped output (make, CI logs) would otherwise wrap queues at 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=150)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="PATRONAGE_DATABASE_URL",
        show_default=False,
        help="SQLAlchemy URL of the Patronage database [default: $PATRONAGE_DATABASE_URL, else "
        "sqlite at $PATRONAGE_HOME/patronage.db, PATRONAGE_HOME defaulting to ~/.patronage].",
    ),
]


# Set by the app's callback for every command: how to reach the Patronage database.
_PASSWORD_SECRET: dict[str, str | None] = {"name": None}
_DATABASE_BLOCK: dict[str, str | None] = {"name": None}


@app.callback()
def _options(
    database_password_secret: Annotated[
        str | None,
        typer.Option(
            "--database-password-secret",
            envvar="PATRONAGE_DATABASE_PASSWORD_SECRET",
            help="Name of a Prefect Secret block holding the database password (never put the "
            "password in --database-url).",
        ),
    ] = None,
    database_block: Annotated[
        str | None,
        typer.Option(
            "--database-block",
            envvar="PATRONAGE_DATABASE_BLOCK",
            help="Name of a Patronage Database block (`patronage db save-block`); replaces "
            "--database-url and --database-password-secret.",
        ),
    ] = None,
) -> None:
    """Patronage: retention and ideation work queues from CRM and conversations."""
    _PASSWORD_SECRET["name"] = database_password_secret
    _DATABASE_BLOCK["name"] = database_block


def _checked_url(database_url: str | None, must_exist: bool) -> str:
    """The URL to use, refused with a clear line (never echoing a password) when it cannot be."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from patronage.config.locations import default_database_url
    from patronage.resources.database import database_exists

    url = database_url or default_database_url()
    try:
        parsed = make_url(url)
    except ArgumentError:
        console.print(
            "[red]--database-url is not a SQLAlchemy URL (e.g. sqlite:////srv/p.db)[/red]"
        )
        raise typer.Exit(code=2) from None
    if parsed.password:
        console.print(
            "[red]--database-url must not contain a password (shell history, process lists and "
            f"logs keep it): {escape(parsed.render_as_string(hide_password=True))}; put the "
            "password in a Prefect Secret block and pass --database-password-secret NAME[/red]"
        )
        raise typer.Exit(code=2)
    if must_exist and not database_exists(url):
        console.print(
            f"[red]no Patronage database at {escape(str(parsed.database))}: check --database-url "
            "(or $PATRONAGE_DATABASE_URL), or create it with `patronage run` or "
            "`patronage db upgrade`[/red]"
        )
        raise typer.Exit(code=2)
    return url


def database_resource(database_url: str | None, must_exist: bool = True):
    """The ``PatronageDatabase`` a command uses: the named block, else the URL (checked) and
    the Secret block. A missing SQLite file is refused when ``must_exist`` (reading must not
    create an empty database and show empty queues)."""
    from patronage.resources.database import PatronageDatabase

    if _DATABASE_BLOCK["name"]:
        try:
            database = PatronageDatabase.load(_DATABASE_BLOCK["name"])
        except ValueError as exc:
            console.print(
                f"[red]--database-block {escape(_DATABASE_BLOCK['name'])}: {escape(str(exc))}; "
                "save one with `patronage db save-block NAME --url URL`[/red]"
            )
            raise typer.Exit(code=2) from None
        if must_exist and not database.exists():
            console.print(f"[red]no Patronage database at {escape(database.describe())}[/red]")
            raise typer.Exit(code=2)
        return database
    url = _checked_url(database_url, must_exist)
    return PatronageDatabase(url=url, password_secret=_PASSWORD_SECRET["name"])


@contextmanager
def _database(database_url: str | None, must_exist: bool = True):
    """An engine for a command, from its ``PatronageDatabase`` (created and disposed there)."""
    with database_resource(database_url, must_exist).engine() as engine:
        yield engine


Worker = Annotated[
    str | None,
    typer.Option(
        "--worker",
        envvar="PATRONAGE_WORKER",
        help="Who is working (defaults to $PATRONAGE_WORKER, else $USER).",
    ),
]


def _worker(worker: str | None) -> str:
    who = worker or os.environ.get("USER")
    if not who:
        console.print("[red]say who is working: --worker NAME (or set PATRONAGE_WORKER)[/red]")
        raise typer.Exit(code=2)
    return who


HEADERS = {
    "priority_rank": "#",
    "priority_score": "priority",
    "reason_codes": "reasons",
    "customer_id": "customer",
    "value_tier": "tier",
    "value_at_risk": "value at risk",
    "due_date": "due",
    "idea_key": "idea",
    "n_supporters": "supporters",
    "customer_supporters": "customers",
    "stakeholder_supporters": "stakeholders",
}


def _table(title: str, frame, columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(HEADERS.get(col, col), overflow="fold")
    for row in frame[columns].itertuples(index=False):
        table.add_row(*(escape(str(v)) for v in row))
    return table
