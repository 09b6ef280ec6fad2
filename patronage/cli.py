"""``patronage``: generate a sample company, run the nightly flow, look at the queues."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

# A fresh PREFECT_HOME migrates the ephemeral server's database on first start, which takes
# longer than Prefect's default 20 s on a 2-core machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

app = typer.Typer(help="Patronage: retention and ideation work queues from CRM and conversations.",
                  no_args_is_help=True)
# Piped output (make, CI logs) would otherwise wrap queues at 80 columns.
console = Console() if sys.stdout.isatty() else Console(width=150)

DatabaseUrl = Annotated[str, typer.Option("--database-url", envvar="PATRONAGE_DATABASE_URL",
                                          help="SQLAlchemy URL of the Patronage database.")]


@app.command()
def sample(
    out: Annotated[Path, typer.Option(help="Folder for the raw exports.")] = Path("sample-company"),
    customers: Annotated[int, typer.Option(min=10, help="Number of CRM customers.")] = 600,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 7,
    as_of: Annotated[str, typer.Option(help="Cut-off date of the exports (YYYY-MM-DD).")] = "2026-10-31",
    truth_dir: Annotated[Path | None, typer.Option(help="Ground-truth folder (default: OUT-truth).")] = None,
    no_truth: Annotated[bool, typer.Option("--no-truth", help="Do not write ground truth.")] = False,
) -> None:
    """Simulate a company and write its raw exports (and, separately, ground truth)."""
    from patronage.simulator import SampleSpec, write_sample

    truth = None if no_truth else (truth_dir or out.with_name(out.name + "-truth"))
    counts = write_sample(SampleSpec(customers=customers, seed=seed, as_of=date.fromisoformat(as_of)),
                          out, truth)
    for name, n in counts.items():
        console.print(f"{name:>22}: {n} rows")
    console.print(f"exports in {out}" + (f", ground truth in {truth}" if truth else ""))


def _run(data: str | None, database_url: str, as_of: str | None, dry_run: bool,
         sources_file: str | None = None, full_refresh: bool = False) -> dict:
    from flows.nightly import nightly
    from patronage.config import BUNDLED_SAMPLE, BUNDLED_SAMPLE_AS_OF, NightlyParameters

    own_data = data or sources_file
    cutoff = date.fromisoformat(as_of) if as_of else (None if own_data else BUNDLED_SAMPLE_AS_OF)
    params = NightlyParameters(data_location=data or str(BUNDLED_SAMPLE), database_url=database_url,
                               as_of=cutoff, dry_run=dry_run, sources_file=sources_file,
                               full_refresh=full_refresh)
    return nightly(params)


@app.command()
def run(
    database_url: DatabaseUrl = "sqlite:///patronage.db",
    data: Annotated[str | None, typer.Option(help="Folder with raw exports (default: bundled sample).")] = None,
    as_of: Annotated[str | None, typer.Option(help="Cut-off date YYYY-MM-DD (default: today, or the bundled sample's date).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Build the queues but do not publish.")] = False,
    sources_file: Annotated[str | None, typer.Option(help="YAML file of sources (see deployments/sources.example.yaml).")] = None,
    full_refresh: Annotated[bool, typer.Option(help="Ignore stored cursors and watermarks.")] = False,
) -> None:
    """Run the nightly flow once, in-process."""
    summary = _run(data, database_url, as_of, dry_run, sources_file, full_refresh)
    console.print(f"run {summary['run_id']}: {summary['queues']}")


@app.command()
def demo(
    database_url: DatabaseUrl = "sqlite:///patronage.db",
    top: Annotated[int, typer.Option(help="Items shown per queue.")] = 10,
) -> None:
    """Run the nightly flow on the bundled sample company and print both queues."""
    summary = _run(None, database_url, None, dry_run=False)
    queues(database_url=database_url, top=top)
    changed = summary["queues_changed"]
    console.print(f"\nrun {summary['run_id']} as of {summary['as_of']}: "
                  f"published queues changed by this run: {'yes' if changed else 'no'}")


HEADERS = {
    "priority_rank": "#", "priority_score": "priority", "reason_codes": "reasons",
    "customer_id": "customer", "value_tier": "tier", "value_at_risk": "value at risk",
    "due_date": "due", "idea_key": "idea", "n_supporters": "supporters",
    "customer_supporters": "customers", "stakeholder_supporters": "stakeholders",
}


def _table(title: str, frame, columns: list[str]) -> Table:
    table = Table(title=title, title_justify="left")
    for col in columns:
        table.add_column(HEADERS.get(col, col), overflow="fold")
    for row in frame[columns].itertuples(index=False):
        table.add_row(*(escape(str(v)) for v in row))
    return table


@app.command()
def queues(
    database_url: DatabaseUrl = "sqlite:///patronage.db",
    top: Annotated[int, typer.Option(help="Items shown per queue.")] = 10,
) -> None:
    """Print the top of each published queue."""
    from patronage.database import engine_for
    from patronage.queue_view import open_ideas, open_retention_cases

    with engine_for(database_url) as engine:
        cases = open_retention_cases(engine, top)
        ideas = open_ideas(engine, top)
    cases["priority_score"] = cases["priority_score"].round(1)
    cases["value_at_risk"] = cases["value_at_risk"].round(0)
    console.print(_table("Retention queue", cases, [
        "priority_rank", "priority_score", "reason_codes", "customer_id", "value_tier",
        "value_at_risk", "owner", "due_date"]))
    ideas["priority_score"] = ideas["priority_score"].round(1)
    ideas["title"] = ideas["title"].str.slice(0, 45)
    console.print(_table("Ideation queue", ideas, [
        "priority_rank", "priority_score", "idea_key", "title", "n_supporters",
        "customer_supporters", "stakeholder_supporters", "votes", "status"]))


quarantine_app = typer.Typer(help="Rows rejected by the data contracts: list, export, fix.",
                             no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("list")
def quarantine_list(
    database_url: DatabaseUrl = "sqlite:///patronage.db",
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    status: Annotated[str | None, typer.Option(help="quarantined, fixed or released.")] = None,
) -> None:
    """List quarantined rows with their failed expectations (ids only, no row content)."""
    from patronage.database import engine_for
    from patronage.quarantine import list_quarantine

    with engine_for(database_url) as engine:
        entries = list_quarantine(engine, dataset, status)
    console.print(_table(f"Quarantine ({len(entries)} rows)", entries, [
        "id", "dataset", "row_key", "failed_expectations", "status", "first_seen"]))


@quarantine_app.command("export")
def quarantine_export(
    dataset: Annotated[str, typer.Option(help="Dataset whose quarantined rows to export.")],
    out: Annotated[Path, typer.Option(help="JSON Lines file to write.")],
    database_url: DatabaseUrl = "sqlite:///patronage.db",
) -> None:
    """Write quarantined rows to a JSON Lines file to correct by hand."""
    from patronage.database import engine_for
    from patronage.quarantine import export_quarantine

    with engine_for(database_url) as engine:
        n = export_quarantine(engine, dataset, out)
    console.print(f"{n} {dataset} row(s) written to {out}; fix each 'row', then run "
                  f"`patronage quarantine fix --file {out}`")


@quarantine_app.command("fix")
def quarantine_fix(
    file: Annotated[Path, typer.Option(help="JSON Lines file of corrected rows (from export).")],
    database_url: DatabaseUrl = "sqlite:///patronage.db",
) -> None:
    """Hand corrected rows back; the next run validates them and, if they pass, uses them."""
    from patronage.database import engine_for
    from patronage.quarantine import FixFileError, apply_fixes

    try:
        with engine_for(database_url) as engine:
            n = apply_fixes(engine, file)
    except FixFileError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None
    console.print(f"{n} fixed row(s) stored; the next run validates them again")


identity_app = typer.Typer(help="Correct who is who: links the pipeline must make or must not.",
                           no_args_is_help=True)
app.add_typer(identity_app, name="identity")


def _decide(database_url: str, key: str, customer: str, decision: str) -> None:
    from patronage.database import engine_for
    from tasks.io.identity_overrides import record_identity_decision

    try:
        with engine_for(database_url) as engine:
            record_identity_decision(engine, key, customer, decision, os.environ.get("USER"))
    except ValueError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None
    console.print(f"{decision} recorded for customer {customer}; the next run respects it")


@identity_app.command("link")
def identity_link(
    key: Annotated[str, typer.Option(help="Identity key, e.g. twitter:anna_k92 or email:anna@example.com.")],
    customer: Annotated[str, typer.Option(help="Customer id it belongs to.")],
    database_url: DatabaseUrl = "sqlite:///patronage.db",
) -> None:
    """Must-link: this key is this customer, whatever the pipeline would decide."""
    _decide(database_url, key, customer, "must_link")


@identity_app.command("unlink")
def identity_unlink(
    key: Annotated[str, typer.Option(help="Identity key wrongly linked.")],
    customer: Annotated[str, typer.Option(help="Customer id it must not be linked to.")],
    database_url: DatabaseUrl = "sqlite:///patronage.db",
) -> None:
    """Cannot-link: this key is not this customer."""
    _decide(database_url, key, customer, "cannot_link")


@app.command()
def serve() -> None:
    """Serve the nightly deployment from this process (no work pool needed)."""
    from flows.serve import serve_nightly

    serve_nightly()


if __name__ == "__main__":
    app()
