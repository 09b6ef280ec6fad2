"""`patronage outbox`: what delivery sent, deferred and dead-lettered; retry and discard."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from patronage.cli.common import DatabaseUrl, _database, _table, app, console

outbox_app = typer.Typer(
    help="Messages to Slack, e-mail, HubSpot and Zendesk: list, show, retry, discard.",
    no_args_is_help=True,
)
app.add_typer(outbox_app, name="outbox")


def _outbox(action, database_url: str | None):
    from patronage.tasks.io.outbox import OutboxError

    try:
        with _database(database_url) as engine:
            return action(engine)
    except OutboxError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        str | None,
        typer.Option(help="pending, in_flight, sent, dead, discarded or skipped."),
    ] = None,
    destination: Annotated[
        str | None, typer.Option(help="email, slack, hubspot or zendesk.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Messages shown, newest first.")] = 50,
    database_url: DatabaseUrl = None,
) -> None:
    """Messages with their state and, for dead letters, the reason."""
    from patronage.tasks.io.outbox import list_outbox, outbox_counts

    frame, counts = _outbox(
        lambda e: (list_outbox(e, status, destination, limit), outbox_counts(e)), database_url
    )
    console.print("messages: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")
    columns = ["id", "kind", "destination", "status", "attempts", "item_key", "last_error"]
    console.print(_table("Outbox", frame.fillna(""), columns))


@outbox_app.command("show")
def outbox_show(
    message_id: Annotated[int, typer.Argument(help="The outbox id.")],
    database_url: DatabaseUrl = None,
) -> None:
    """One message: where it goes, its attempts, its payload (ids and statuses)."""
    from patronage.tasks.io.outbox import get_outbox_message

    row = _outbox(lambda e: get_outbox_message(e, message_id), database_url)
    for field, value in row.items():
        console.print(f"[bold]{field}[/bold]: {escape(str(value))}")


@outbox_app.command("retry")
def outbox_retry(
    message_ids: Annotated[list[int], typer.Argument(help="Outbox ids to send again.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Send dead-lettered (or discarded) messages again on the next delivery run."""
    from patronage.tasks.io.outbox import retry_messages

    n = _outbox(lambda e: retry_messages(e, message_ids), database_url)
    console.print(f"{n} message(s) queued again")


@outbox_app.command("discard")
def outbox_discard(
    message_ids: Annotated[list[int], typer.Argument(help="Outbox ids never to send.")],
    reason: Annotated[str, typer.Option(help="Why (kept with the message).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Mark messages as never to be sent (they are kept, with the reason)."""
    from patronage.tasks.io.outbox import discard_messages

    n = _outbox(lambda e: discard_messages(e, message_ids, reason), database_url)
    console.print(f"{n} message(s) discarded")
