"""`patronage work` and `patronage ideas`: working the queues from a terminal."""

from __future__ import annotations

from datetime import date
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

work_app = typer.Typer(
    help="Work a queue: list, show, claim, release, snooze, note, resolve, export.",
    no_args_is_help=True,
)
app.add_typer(work_app, name="work")
QueueName = Annotated[str, typer.Option("--queue", help="retention or ideation.")]


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
