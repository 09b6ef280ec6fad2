"""``patronage``: generate a sample company, run the nightly flow, look at the queues."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
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


# Set by the app's callback: the Secret block holding the database password, for every command.
_PASSWORD_SECRET: dict[str, str | None] = {"name": None}


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
) -> None:
    """Patronage: retention and ideation work queues from CRM and conversations."""
    _PASSWORD_SECRET["name"] = database_password_secret


def _checked_url(database_url: str | None, must_exist: bool) -> str:
    """The URL to use, refused with a clear line (never echoing a password) when it cannot be."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from patronage.database import database_exists, default_database_url

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


@contextmanager
def _database(database_url: str | None, must_exist: bool = True):
    """An engine for a command: the password from the Secret block, a missing SQLite file
    refused (reading must not create an empty database and show empty queues)."""
    from patronage.database import engine_for, load_secret

    url = _checked_url(database_url, must_exist)
    with engine_for(url, load_secret(_PASSWORD_SECRET["name"])) as engine:
        yield engine


@app.command()
def sample(
    out: Annotated[Path, typer.Option(help="Folder for the raw exports.")] = Path("sample-company"),
    customers: Annotated[int, typer.Option(min=10, help="Number of CRM customers.")] = 600,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 7,
    as_of: Annotated[
        str, typer.Option(help="Cut-off date of the exports (YYYY-MM-DD).")
    ] = "2026-10-31",
    truth_dir: Annotated[
        Path | None, typer.Option(help="Ground-truth folder (default: OUT-truth).")
    ] = None,
    no_truth: Annotated[
        bool, typer.Option("--no-truth", help="Do not write ground truth.")
    ] = False,
) -> None:
    """Simulate a company and write its raw exports (and, separately, ground truth)."""
    from patronage.simulator import SampleSpec, write_sample

    truth = None if no_truth else (truth_dir or out.with_name(out.name + "-truth"))
    counts = write_sample(
        SampleSpec(customers=customers, seed=seed, as_of=date.fromisoformat(as_of)), out, truth
    )
    for name, n in counts.items():
        console.print(f"{name:>22}: {n} rows")
    console.print(f"exports in {out}" + (f", ground truth in {truth}" if truth else ""))


def _run(
    data: str | None,
    database_url: str,
    as_of: str | None,
    dry_run: bool,
    sources_file: str | None = None,
    full_refresh: bool = False,
) -> dict:
    from flows.nightly import nightly
    from patronage.config import BUNDLED_SAMPLE, BUNDLED_SAMPLE_AS_OF, NightlyParameters

    own_data = data or sources_file
    cutoff = date.fromisoformat(as_of) if as_of else (None if own_data else BUNDLED_SAMPLE_AS_OF)
    params = NightlyParameters(
        data_location=data or str(BUNDLED_SAMPLE),
        database_url=_checked_url(database_url, must_exist=False),
        database_password_secret=_PASSWORD_SECRET["name"],
        as_of=cutoff,
        dry_run=dry_run,
        sources_file=sources_file,
        full_refresh=full_refresh,
    )
    state = nightly(params, return_state=True)
    if not state.is_completed():
        console.print(f"[red]run failed: {escape(state.message or state.name)}[/red]")
        raise typer.Exit(code=2)
    return state.result()


@app.command()
def run(
    database_url: DatabaseUrl = None,
    data: Annotated[
        str | None, typer.Option(help="Folder with raw exports (default: bundled sample).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Cut-off date YYYY-MM-DD (default: today, or the bundled sample's date)."
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Build the queues but do not publish.")] = False,
    sources_file: Annotated[
        str | None,
        typer.Option(help="YAML file of sources (see deployments/sources.example.yaml)."),
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option(help="Ignore stored cursors and watermarks.")
    ] = False,
) -> None:
    """Run the nightly flow once, in-process."""
    summary = _run(data, database_url, as_of, dry_run, sources_file, full_refresh)
    console.print(f"run {summary['run_id']}: {summary['queues']}")


@app.command()
def demo(
    database_url: DatabaseUrl = None,
    top: Annotated[int, typer.Option(help="Items shown per queue.")] = 10,
) -> None:
    """Run the nightly flow on the bundled sample company and print both queues."""
    summary = _run(None, database_url, None, dry_run=False)
    queues(database_url=database_url, top=top)
    changed = summary["queues_changed"]
    console.print(
        f"\nrun {summary['run_id']} as of {summary['as_of']}: "
        f"published queues changed by this run: {'yes' if changed else 'no'}"
    )


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


@app.command()
def queues(
    database_url: DatabaseUrl = None,
    top: Annotated[int, typer.Option(help="Items shown per queue.")] = 10,
) -> None:
    """Print the top of each published queue."""
    from patronage.work import list_items

    with _database(database_url) as engine:
        cases = list_items(engine, "retention", limit=top)
        ideas = list_items(engine, "ideation", limit=top)
    cases["priority_score"] = cases["priority_score"].round(1)
    cases["value_at_risk"] = cases["value_at_risk"].round(0)
    console.print(
        _table(
            "Retention queue",
            cases,
            [
                "priority_rank",
                "priority_score",
                "reason_codes",
                "customer_id",
                "value_tier",
                "value_at_risk",
                "owner",
                "due_date",
            ],
        )
    )
    ideas["priority_score"] = ideas["priority_score"].round(1)
    ideas["title"] = ideas["title"].str.slice(0, 45)
    console.print(
        _table(
            "Ideation queue",
            ideas,
            [
                "priority_rank",
                "priority_score",
                "idea_key",
                "title",
                "n_supporters",
                "customer_supporters",
                "stakeholder_supporters",
                "votes",
                "status",
            ],
        )
    )


from patronage.cli_text import text_app  # noqa: E402 - after the shared options above

app.add_typer(text_app, name="text")

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
    from patronage.quarantine import list_quarantine

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
    from patronage.quarantine import export_quarantine

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
    from patronage.quarantine import FixFileError, apply_fixes

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
    from tasks.io.identity_overrides import record_identity_decision

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


work_app = typer.Typer(
    help="Work a queue: list, show, claim, release, snooze, note, resolve, export.",
    no_args_is_help=True,
)
app.add_typer(work_app, name="work")
QueueName = Annotated[str, typer.Option("--queue", help="retention or ideation.")]
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


def _work(action, database_url: str):
    """Run a work-API call, turning its errors into a red line and exit code 2."""
    from patronage.work import WorkError

    try:
        with _database(database_url) as engine:
            return action(engine)
    except WorkError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None


@work_app.command("list")
def work_list(
    queue: QueueName = "retention",
    database_url: DatabaseUrl = None,
    mine: Annotated[bool, typer.Option(help="Only items I hold.")] = False,
    worker: Worker = None,
    snoozed: Annotated[bool, typer.Option(help="Include snoozed items.")] = False,
    done: Annotated[
        bool, typer.Option(help="Include resolved / shipped / declined / closed items.")
    ] = False,
    top: Annotated[int, typer.Option(help="Items shown.")] = 20,
) -> None:
    """Items to work on, highest priority first."""
    from patronage.work import list_items

    assignee = _worker(worker) if mine else None
    items = _work(
        lambda e: list_items(
            e, queue, assignee=assignee, include_snoozed=snoozed, include_done=done, limit=top
        ),
        database_url,
    )
    key = "case_id" if queue == "retention" else "idea_key"
    columns = (
        [key, "priority_rank", "customer_id", "value_tier", "reason_codes", "due_date", "owner"]
        if queue == "retention"
        else [key, "priority_rank", "n_supporters", "votes"]
    )
    console.print(
        _table(
            f"{queue} ({len(items)} shown)",
            items,
            columns + ["status", "assignee", "snoozed_until"],
        )
    )


@work_app.command("show")
def work_show(item: str, queue: QueueName = "retention", database_url: DatabaseUrl = None) -> None:
    """Everything about one item: goal, playbook, evidence, people's fields and its work log."""
    from patronage.work import get_item, notes

    row, log = _work(lambda e: (get_item(e, queue, item), notes(e, queue, item)), database_url)
    for field, value in row.items():
        console.print(f"[bold]{field}[/bold]: {escape(str(value))}")
    console.print(_table(f"work log ({len(log)})", log, ["at", "actor", "action", "detail"]))


@work_app.command("claim")
def work_claim(
    queue: QueueName = "retention",
    item: Annotated[
        str | None, typer.Option(help="Item key; without it, the next one by priority.")
    ] = None,
    count: Annotated[int, typer.Option(help="How many of the next items to take.")] = 1,
    database_url: DatabaseUrl = None,
    worker: Worker = None,
) -> None:
    """Take an item (or the next ones by priority) so nobody else works on it."""
    from patronage.work import claim, claim_next

    who = _worker(worker)
    if item:
        _work(lambda e: claim(e, queue, item, who), database_url)
        console.print(f"{item} claimed by {who}")
        return

    def take(engine) -> list[str]:
        taken: list[str] = []
        while len(taken) < count and (key := claim_next(engine, queue, who)) is not None:
            taken.append(key)
        return taken

    taken = _work(take, database_url)
    console.print("\n".join(taken) if taken else "nothing left to claim")


@work_app.command("release")
def work_release(
    item: str,
    queue: QueueName = "retention",
    database_url: DatabaseUrl = None,
    worker: Worker = None,
) -> None:
    """Give an item you hold back to the queue."""
    from patronage.work import release

    who = _worker(worker)
    _work(lambda e: release(e, queue, item, who), database_url)
    console.print(f"{item} released")


@work_app.command("snooze")
def work_snooze(
    item: str,
    until: Annotated[str, typer.Option(help="Date (YYYY-MM-DD) the item comes back.")],
    queue: QueueName = "retention",
    database_url: DatabaseUrl = None,
    worker: Worker = None,
) -> None:
    """Hide an item from the work list until a date."""
    from patronage.work import snooze

    who = _worker(worker)
    try:
        day = date.fromisoformat(until)
    except ValueError:
        console.print(f"[red]--until {escape(until)} is not a date (YYYY-MM-DD)[/red]")
        raise typer.Exit(code=2) from None
    _work(lambda e: snooze(e, queue, item, day, who), database_url)
    console.print(f"{item} snoozed until {day.isoformat()}")


@work_app.command("note")
def work_note(
    item: str,
    text: str,
    queue: QueueName = "retention",
    database_url: DatabaseUrl = None,
    worker: Worker = None,
) -> None:
    """Add a note to an item's work log."""
    from patronage.work import add_note

    who = _worker(worker)
    _work(lambda e: add_note(e, queue, item, text, who), database_url)
    console.print(f"note added to {item}")


@work_app.command("resolve")
def work_resolve(
    case: str,
    outcome: Annotated[
        str,
        typer.Option(
            help="retained, won_back, lost, not_at_risk, unreachable; or not_a_churn_threat / "
            "not_a_complaint when the evidence misread the customer (the text models learn from it)."
        ),
    ],
    note: Annotated[str | None, typer.Option(help="What was done (optional).")] = None,
    database_url: DatabaseUrl = None,
    worker: Worker = None,
) -> None:
    """Close a retention case with its outcome."""
    from patronage.work import resolve_case

    who = _worker(worker)
    _work(lambda e: resolve_case(e, case, outcome, who, note), database_url)
    console.print(f"{case} resolved: {outcome}")


@work_app.command("export")
def work_export(
    out: Annotated[Path, typer.Option(help="File to write: .csv (formulas escaped) or .parquet.")],
    queue: QueueName = "retention",
    done: Annotated[bool, typer.Option(help="Include resolved / closed items.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Export a queue (snoozed items included) to CSV or Parquet."""
    from patronage.work import export_queue

    n = _work(lambda e: export_queue(e, queue, out, include_done=done), database_url)
    console.print(f"{n} {queue} item(s) written to {out}")


ideas_app = typer.Typer(
    help="Move ideas through new → under_review → planned → shipped / declined; "
    "merge and split them.",
    no_args_is_help=True,
)
app.add_typer(ideas_app, name="ideas")


@ideas_app.command("status")
def ideas_status(
    idea: str,
    to: Annotated[str, typer.Option(help="New status.")],
    database_url: DatabaseUrl = None,
    worker: Worker = None,
) -> None:
    """Change an idea's status; every supporter gets one notification in the outbox."""
    from patronage.work import set_idea_status

    who = _worker(worker)
    sent = _work(lambda e: set_idea_status(e, idea, to, who), database_url)
    console.print(f"{idea} is {to}; {sent} supporter notification(s) queued")


@ideas_app.command("merge")
def ideas_merge(
    source: str,
    into: Annotated[str, typer.Option(help="Idea that absorbs SOURCE.")],
    database_url: DatabaseUrl = None,
    worker: Worker = None,
) -> None:
    """Merge a duplicate idea into another; supporters and votes move."""
    from patronage.work import merge_ideas

    who = _worker(worker)
    result = _work(lambda e: merge_ideas(e, source, into, who), database_url)
    console.print(
        f"{source} merged into {into}: {result['moved']} supporter(s) moved, "
        f"{result['already_supporting']} already backed it, {result['notified']} notified"
    )


@ideas_app.command("split")
def ideas_split(
    conversation: Annotated[str, typer.Option(help="Mention to take out, e.g. post:P0000123.")],
    database_url: DatabaseUrl = None,
    worker: Worker = None,
) -> None:
    """Take a mention out of the idea it was clustered into (from the next run on)."""
    from patronage.work import split_idea

    who = _worker(worker)
    _work(lambda e: split_idea(e, conversation, who), database_url)
    console.print(f"{conversation} will stand as its own idea from the next run")


db_app = typer.Typer(
    help="The Patronage database schema (Alembic migrations).", no_args_is_help=True
)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Bring the database to the newest schema (every run also does this itself)."""
    from patronage.database import SchemaMismatchError, ensure_schema, head_revision

    try:
        with _database(database_url, must_exist=False) as engine:
            ensure_schema(engine)
    except SchemaMismatchError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None
    console.print(f"database at revision {head_revision()}")


@app.command()
def serve(
    name: Annotated[
        str, typer.Option(help="Deployment name (the `prefect deploy` one is `nightly`).")
    ] = "nightly-served",
) -> None:
    """Serve the nightly flow at 02:00 Europe/Berlin from this process (no work pool needed)."""
    from flows.serve import serve_nightly
    from patronage.compat import known_bad_combinations

    for problem in known_bad_combinations():
        console.print(f"[red]warning: {escape(problem)}[/red]")
    if name == "nightly":
        console.print(
            "[red]--name nightly is the `prefect deploy` deployment's name; serving under "
            "it would replace that deployment (work pool, pull steps) and pause it on exit[/red]"
        )
        raise typer.Exit(code=2)
    serve_nightly(name=name)


alerts_app = typer.Typer(help="Notify operators when a nightly run fails.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("install")
def alerts_install(
    block: Annotated[
        str, typer.Option(help="Notification block as TYPE/NAME, e.g. slack-webhook/patronage-ops.")
    ],
) -> None:
    """Create (or replace) the Prefect automation that notifies when a nightly fails or crashes."""
    from patronage.alerts import FAILURE_AUTOMATION, AlertSetupError, install_failure_alert

    try:
        automation_id = install_failure_alert(block)
    except AlertSetupError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None
    console.print(f"automation '{FAILURE_AUTOMATION}' ({automation_id}) notifies through {block}")


if __name__ == "__main__":
    app()


@app.command()
def backtest(
    as_of: Annotated[
        str | None,
        typer.Option(
            help="The (latest) past cut-off YYYY-MM-DD: the queue sees data up to it "
            "[default: the data's last day minus the horizon]."
        ),
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="Folder with raw exports (default: bundled sample).")
    ] = None,
    sources_file: Annotated[
        str | None, typer.Option(help="YAML file of sources instead of --data.")
    ] = None,
    horizon_days: Annotated[
        int, typer.Option(min=7, max=730, help="Days after the cut-off judged.")
    ] = 90,
    rolling: Annotated[
        int, typer.Option(min=1, max=24, help="Number of cut-offs, --step-days apart.")
    ] = 1,
    step_days: Annotated[int, typer.Option(min=1, max=365, help="Days between cut-offs.")] = 30,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for backtest.json and the charts [default: $PATRONAGE_HOME/backtests/AS_OF]."
        ),
    ] = None,
    tune: Annotated[
        bool,
        typer.Option(
            help="Fit the policy on the earlier cut-offs, judge it on the latest, write it."
        ),
    ] = False,
    policy_out: Annotated[
        Path | None, typer.Option(help="Where --tune writes the policy [default: OUT/policy.json].")
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option(help="Judge this policy file instead of the default policy.")
    ] = None,
) -> None:
    """Rebuild the retention queue at a past cut-off and compare it with what customers did next."""
    from pydantic import ValidationError

    from flows.backtest import backtest as backtest_flow
    from patronage.config import BUNDLED_SAMPLE, BacktestParameters

    try:
        cutoff = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        console.print(f"[red]--as-of {escape(as_of)!s}: not a date (YYYY-MM-DD)[/red]")
        raise typer.Exit(code=2) from None
    try:
        params = BacktestParameters(
            data_location=data or str(BUNDLED_SAMPLE),
            sources_file=sources_file,
            as_of=cutoff,
            horizon_days=horizon_days,
            rolling=rolling,
            step_days=step_days,
            out_dir=str(out) if out else None,
            tune=tune,
            policy_out=str(policy_out) if policy_out else None,
            policy_file=str(policy_file) if policy_file else None,
        )
    except ValidationError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None
    state = backtest_flow(params, return_state=True)
    if not state.is_completed():
        console.print(f"[red]backtest: {escape(state.message or state.name)}[/red]")
        raise typer.Exit(code=2)
    result = state.result()
    table = Table(
        title=f"Share of the value lost in the {result['horizon_days']} days after {result['as_of']} "
        f"held by the top k ({result['customers']} customers, {result['stopped']} stopped buying)",
        title_justify="left",
    )
    labels = list(next(iter(result["capture"].values())))
    for col in ["list", *labels, "AUC all", "AUC repeat"]:
        table.add_column(col, justify="left" if col == "list" else "right")
    for name, capture in result["capture"].items():
        auc = result["auc"][name]
        table.add_row(
            name,
            *(f"{capture[k]:.3f}" for k in labels),
            *("–" if auc[g] is None else f"{auc[g]:.3f}" for g in ("all", "repeat")),
        )
    console.print(table)
    if "tuning" in result:
        t = result["tuning"]
        console.print(
            f"tuned policy: in-sample capture {t['in_sample']:.3f}, out-of-sample "
            f"{t['out_of_sample']:.3f} (policy in use {t['out_of_sample_before']:.3f}) "
            f"on {t['out_of_sample_cutoff']}; written to {t['policy_file']}"
        )
    for note in result["notes"]:
        console.print(f"[yellow]note: {escape(note)}[/yellow]")
    console.print("files: " + ", ".join(result["files"]))


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
    from patronage.privacy import PrivacyError, load_privacy_key

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
    from patronage.privacy import erase

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

    from patronage.privacy import export_subject

    held = _privacy_request(
        export_subject, customer, identity, worker, database_url, privacy_key_secret
    )
    out.write_text(
        json.dumps(held, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    console.print(
        f"{sum(len(v) for k, v in held.items() if k != 'identifiers')} record(s) written to {out}"
    )
