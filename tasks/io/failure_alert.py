"""Tell operators when a nightly run fails: a Prefect automation that sends a notification.

Prefect emits ``prefect.flow-run.Failed`` / ``Crashed`` for every run that ends badly (a
contract breach included; the breached datasets also get ``patronage.contract.breached``
events). The automation installed here reacts to those events for the ``patronage-nightly``
flow, whichever deployment ran it, and sends the run's name, state message (ids and counts,
never customer data) and link through a notification block the operator created (Slack
webhook, e-mail, Microsoft Teams, custom webhook, ...).
"""

from __future__ import annotations

from uuid import UUID

FAILURE_AUTOMATION = "patronage-nightly failed"
NIGHTLY_FLOW = "patronage-nightly"
FAILURE_SUBJECT = "Patronage nightly {{ flow_run.name }}: {{ flow_run.state.name }}"
FAILURE_BODY = (
    "Patronage nightly run {{ flow_run.name }} ended {{ flow_run.state.name }}.\n"
    "{{ flow_run.state.message }}\n"
    "Nothing was published; the queues people work from are as they were.\n"
    "{{ flow_run|ui_url }}"
)


class AlertSetupError(RuntimeError):
    """The automation could not be installed (for example: no such notification block)."""


def failure_automation(block_document_id: UUID):
    """The automation (not yet saved) that notifies through ``block_document_id``."""
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    return AutomationCore(
        name=FAILURE_AUTOMATION,
        description="Notify operators when a Patronage nightly run fails or crashes "
        "(contract breaches included).",
        trigger=EventTrigger(
            expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related={"prefect.resource.role": "flow", "prefect.resource.name": NIGHTLY_FLOW},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[
            SendNotification(
                block_document_id=block_document_id, subject=FAILURE_SUBJECT, body=FAILURE_BODY
            )
        ],
    )


def install_failure_alert(block_name: str) -> UUID:
    """Create (or replace) the failure automation, notifying through a saved block.

    Args:
        block_name: ``<block-type-slug>/<name>`` of a notification block, e.g.
            ``slack-webhook/patronage-ops``.

    Returns:
        The automation's id.
    """
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    if "/" not in block_name:
        raise AlertSetupError(
            f"--block {block_name!r}: give the block as TYPE/NAME, "
            "e.g. slack-webhook/patronage-ops (see `prefect block ls`)"
        )
    type_slug, name = block_name.split("/", 1)
    with get_client(sync_client=True) as client:
        try:
            block = client.read_block_document_by_name(name, type_slug)
        except ObjectNotFound:
            raise AlertSetupError(
                f"no notification block {block_name} on this Prefect API; "
                "create one first (`prefect block create`)"
            ) from None
        for existing in client.read_automations_by_name(FAILURE_AUTOMATION):
            client.delete_automation(existing.id)
        return client.create_automation(failure_automation(block.id))
