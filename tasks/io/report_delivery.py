"""The delivery run's artifact: counts and outbox ids, never addresses or message text."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE


def render_delivery(counts: dict, ids: dict[str, list[int]]) -> str:
    """Markdown: a line per outcome with its count and the first outbox ids."""
    lines = ["# Delivery", "", "| outcome | messages | outbox ids |", "|---|---|---|"]
    for name in ("sent", "deferred", "dead", "recovered_in_flight"):
        shown = ", ".join(str(i) for i in ids.get(name, [])[:50])
        more = " …" if len(ids.get(name, [])) > 50 else ""
        lines.append(f"| {name} | {counts[name]} | {shown}{more} |")
    lines += [
        "",
        f"Attempts {counts['attempts']}, cases queued {counts['cases_queued']}, "
        f"routed {counts['routed']}, team messages queued {counts['team_messages_queued']}, "
        f"followed back from the CRM or helpdesk {counts['followed_back']}, "
        f"{counts['seconds']} s.",
        "",
        "`patronage outbox list --status dead` shows dead letters with their reasons; "
        "`patronage outbox retry ID` sends one again.",
    ]
    return "\n".join(lines)


@task(cache_policy=NO_CACHE)
def report_delivery(counts: dict, ids: dict[str, list[int]]) -> None:
    """Create the ``patronage-delivery`` artifact."""
    create_markdown_artifact(
        render_delivery(counts, ids),
        key="patronage-delivery",
        description="Messages sent, deferred and dead-lettered (ids only)",
    )
