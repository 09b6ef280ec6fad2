"""The delivery flow: drain the outbox to Slack, e-mail, HubSpot and Zendesk.

Deployed every 5 minutes and right after each completed nightly (``deployments/prefect.yaml``),
with a concurrency limit of one run: the schedule and the trigger may overlap, the runs queue.
"""

from __future__ import annotations

from contextlib import ExitStack

from prefect import flow, get_run_logger
from prefect.states import Failed, State

from patronage.flows.parameters import DeliveryParameters
from patronage.tasks.io.destinations import DESTINATION_BLOCKS, DestinationConfigError
from patronage.tasks.io.failed_nightlies import read_failed_nightlies
from patronage.tasks.io.report_delivery import report_delivery
from patronage.tasks.stages.deliver_outbox import deliver_outbox


def load_destinations(blocks: dict[str, str]) -> dict:
    """The destination blocks by name; a missing or wrong block is named."""
    loaded = {}
    for name, block_name in blocks.items():
        try:
            loaded[name] = DESTINATION_BLOCKS[name].load(block_name)
        except ValueError as exc:
            raise DestinationConfigError(
                f"{name}_block {block_name!r}: no such Patronage {name} destination block ({exc})"
            ) from None
    return loaded


@flow(name="patronage-deliver", log_prints=False)
def deliver(params: DeliveryParameters = DeliveryParameters()) -> dict | State:  # noqa: B008 - renders as the UI form
    """Send what the outbox holds; at least once, in order per item, dead letters kept."""
    try:
        destinations = load_destinations(params.destination_blocks())
    except DestinationConfigError as exc:
        return Failed(message=str(exc))
    for field, name in (("team_destination", params.team_destination),
                        ("case_destination", params.case_destination)):  # fmt: skip
        if name and name not in destinations:
            return Failed(message=f"{field} {name}: set {name}_block to a Patronage {name} block")
    # Operators hear of failed or breached nightlies through the teams' destination.
    failed_runs = read_failed_nightlies(24) if params.team_destination else []
    with params.database().engine() as engine, ExitStack() as stack:
        sessions = {name: stack.enter_context(b.open()) for name, b in destinations.items()}
        report = deliver_outbox(
            engine,
            sessions,
            {name: b.rate_per_second for name, b in destinations.items()},
            params.case_destination,
            params.links_base_url,
            params.max_seconds,
            params.max_attempts,
            params.limit,
            parallel={name: getattr(b, "parallel_requests", 1) for name, b in destinations.items()},
            team_destination=params.team_destination,
            digest_hour_utc=params.digest_hour_utc,
            failed_runs=failed_runs,
            dead_letter_threshold=params.dead_letter_alert_at,
            templates=params.templates_dir,
        )
    counts = report.counts()
    report_delivery(
        counts,
        {
            "sent": report.sent,
            "deferred": report.deferred,
            "dead": report.dead,
            "recovered_in_flight": report.recovered_in_flight,
        },
    )
    get_run_logger().info(
        "Delivered %d, deferred %d, dead %d, recovered in flight %d",
        len(report.sent),
        len(report.deferred),
        len(report.dead),
        len(report.recovered_in_flight),
    )
    return counts
