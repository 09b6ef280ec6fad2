"""Admin commands: quarantine, identity overrides, database, alerts, privacy requests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from patronage.cli.common import (
    DatabaseUrl,
    Worker,
    _database,
    _table,
    _worker,
    app,
    console,
)

quarantine_app = typer.Typer(
    help="Rows rejected by the data contracts: list, export, fix.", no_args_is_help=True
)
app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("list")
def quarantine_list(
    database_url: DatabaseUrl = None,
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    status: Annotated[str | None, typer.Option(help="quarantined, fixed or released.")] = None,
) -> None:
    """List quarantined rows with their failed expectations (ids only, no row content)."""
    from patronage.work.quarantine import list_quarantine

    with _database(database_url) as engine:
        entries = list_quarantine(engine, dataset, status)
    console.print(
        _table(
            f"Quarantine ({len(entries)} rows)",
            entries,
            ["id", "dataset", "row_key", "failed_expectations", "status", "first_seen"],
        )
    )


@quarantine_app.command("export")
def quarantine_export(
    dataset: Annotated[str, typer.Option(help="Dataset whose quarantined rows to export.")],
    out: Annotated[Path, typer.Option(help="JSON Lines file to write.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Write quarantined rows to a JSON Lines file to correct by hand."""
    from patronage.work.quarantine import export_quarantine

    with _database(database_url) as engine:
        n = export_quarantine(engine, dataset, out)
    console.print(
        f"{n} {dataset} row(s) written to {out}; fix each 'row', then run "
        f"`patronage quarantine fix --file {out}`"
    )


@quarantine_app.command("fix")
def quarantine_fix(
    file: Annotated[Path, typer.Option(help="JSON Lines file of corrected rows (from export).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Hand corrected rows back; the next run validates them and, if they pass, uses them."""
    from patronage.work.quarantine import FixFileError, apply_fixes

    try:
        with _database(database_url) as engine:
            n = apply_fixes(engine, file)
    except FixFileError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None
    console.print(f"{n} fixed row(s) stored; the next run validates them again")


identity_app = typer.Typer(
    help="Correct who is who: links the pipeline must make or must not.", no_args_is_help=True
)
app.add_typer(identity_app, name="identity")


def _decide(database_url: str, key: str, customer: str, decision: str) -> None:
    from patronage.tasks.io.identity_overrides import record_identity_decision

    try:
        # a decision may come before the first run: recording it creates the database
        with _database(database_url, must_exist=False) as engine:
            record_identity_decision(engine, key, customer, decision, os.environ.get("USER"))
    except ValueError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None
    console.print(f"{decision} recorded for customer {customer}; the next run respects it")


@identity_app.command("link")
def identity_link(
    key: Annotated[
        str, typer.Option(help="Identity key, e.g. twitter:anna_k92 or email:anna@example.com.")
    ],
    customer: Annotated[str, typer.Option(help="Customer id it belongs to.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Must-link: this key is this customer, whatever the pipeline would decide."""
    _decide(database_url, key, customer, "must_link")


@identity_app.command("unlink")
def identity_unlink(
    key: Annotated[str, typer.Option(help="Identity key wrongly linked.")],
    customer: Annotated[str, typer.Option(help="Customer id it must not be linked to.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Cannot-link: this key is not this customer."""
    _decide(database_url, key, customer, "cannot_link")


db_app = typer.Typer(
    help="The Patronage database schema (Alembic migrations).", no_args_is_help=True
)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Bring the database to the newest schema (every run also does this itself)."""
    from patronage.resources.database import SchemaMismatchError, ensure_schema, head_revision

    try:
        with _database(database_url, must_exist=False) as engine:
            ensure_schema(engine)
    except SchemaMismatchError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None
    console.print(f"database at revision {head_revision()}")


@db_app.command("save-block")
def db_save_block(
    name: Annotated[str, typer.Argument(help="Block name, picked in the Prefect UI.")],
    url: Annotated[
        str | None,
        typer.Option(help="SQLAlchemy URL without a password [default: the process default]."),
    ] = None,
    password_secret: Annotated[
        str | None, typer.Option(help="Name of a Prefect Secret block holding the password.")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a block of that name.")] = False,
) -> None:
    """Save a Patronage Database block: the nightly's `database_block` and `--database-block`."""
    from pydantic import ValidationError

    from patronage.resources.database import PatronageDatabase

    try:
        block = PatronageDatabase(url=url, password_secret=password_secret)
    except ValidationError as exc:
        console.print(f"[red]{escape(exc.errors()[0]['msg'])}[/red]")
        raise typer.Exit(code=2) from None
    try:
        block.save(name, overwrite=overwrite)
    except ValueError as exc:
        console.print(f"[red]block {escape(name)}: {escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None
    console.print(f"saved Patronage Database block {escape(name)}: {escape(block.describe())}")


alerts_app = typer.Typer(help="Notify operators when a nightly run fails.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("install")
def alerts_install(
    block: Annotated[
        str, typer.Option(help="Notification block as TYPE/NAME, e.g. slack-webhook/patronage-ops.")
    ],
) -> None:
    """Create (or replace) the Prefect automation that notifies when a nightly fails or crashes."""
    from patronage.tasks.io.failure_alert import (
        FAILURE_AUTOMATION,
        AlertSetupError,
        install_failure_alert,
    )

    try:
        automation_id = install_failure_alert(block)
    except AlertSetupError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None
    console.print(f"automation '{FAILURE_AUTOMATION}' ({automation_id}) notifies through {block}")


if __name__ == "__main__":
    app()


privacy_app = typer.Typer(help="Erasure and access requests.", no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")

PrivacyKeySecret = Annotated[
    str | None,
    typer.Option(
        "--privacy-key-secret",
        envvar="PATRONAGE_PRIVACY_KEY_SECRET",
        help="Secret block with the suppression list's HMAC key [default: $PATRONAGE_HOME/privacy.key].",
    ),
]


def _privacy_request(
    request,
    customer: str | None,
    identity: str | None,
    worker: str | None,
    database_url: str | None,
    privacy_key_secret: str | None,
):
    """Run ``erase`` or ``export_subject`` for exactly one named person; errors in one line."""
    from patronage.tasks.io.privacy import PrivacyError, load_privacy_key

    if bool(customer) == bool(identity):
        console.print(
            "[red]name the person with exactly one of --customer ID or --identity KEY[/red]"
        )
        raise typer.Exit(code=2)
    who = _worker(worker)
    try:
        with _database(database_url) as engine:
            return request(
                engine,
                customer_id=customer,
                identity=identity,
                actor=who,
                key=load_privacy_key(privacy_key_secret),
            )
    except PrivacyError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None


@privacy_app.command("erase")
def privacy_erase(
    customer: Annotated[str | None, typer.Option(help="CRM id of the customer.")] = None,
    identity: Annotated[
        str | None,
        typer.Option(help="email:ADDRESS, phone:NUMBER or PLATFORM:HANDLE of any speaker."),
    ] = None,
    worker: Worker = None,
    database_url: DatabaseUrl = None,
    privacy_key_secret: PrivacyKeySecret = None,
) -> None:
    """Forget a person: delete what Patronage holds about them, and drop them from every later extract."""
    from patronage.tasks.io.privacy import erase

    counts = _privacy_request(erase, customer, identity, worker, database_url, privacy_key_secret)
    deleted = {k: v for k, v in counts.items() if v and k != "suppressed"}
    console.print(
        f"erased: {sum(deleted.values())} row(s) deleted ({', '.join(f'{k} {v}' for k, v in sorted(deleted.items())) or 'nothing stored'}); "
        f"{counts['suppressed']} identifier(s) suppressed in every later extract"
    )


@privacy_app.command("export")
def privacy_export(
    customer: Annotated[str | None, typer.Option(help="CRM id of the customer.")] = None,
    identity: Annotated[
        str | None, typer.Option(help="email:ADDRESS, phone:NUMBER or PLATFORM:HANDLE.")
    ] = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="JSON file to write.")] = Path(
        "subject.json"
    ),
    worker: Worker = None,
    database_url: DatabaseUrl = None,
    privacy_key_secret: PrivacyKeySecret = None,
) -> None:
    """What Patronage holds about one person, as JSON (a subject access request)."""
    import json

    from patronage.tasks.io.privacy import export_subject

    held = _privacy_request(
        export_subject, customer, identity, worker, database_url, privacy_key_secret
    )
    out.write_text(
        json.dumps(held, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    console.print(
        f"{sum(len(v) for k, v in held.items() if k != 'identifiers')} record(s) written to {out}"
    )
