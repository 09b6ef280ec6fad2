"""Zendesk: a retention case becomes a ticket for the customer, with the case id as its
``external_id``, an internal first comment (Zendesk does not e-mail the customer about an
internal case) and the routing's group; ``Idempotency-Key`` makes a repeat return the first
ticket."""

from __future__ import annotations

import httpx
from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from patronage.tasks.io.destinations.base import (
    Envelope,
    RemoteState,
    Session,
    http_outcome,
    network_outcome,
    parse_remote_time,
)

# Tickets Patronage creates carry this tag; the Zendesk source leaves them out, so they never
# come back as if the customer had opened them.
from patronage.tasks.io.sources.rest import PATRONAGE_TAG
from patronage.tasks.transforms.delivery.retry_policy import Outcome

PRIORITY_BY_TIER = {"high_value": "high", "high_potential": "normal"}


class ZendeskDestination(Block):
    """A Zendesk Support account reached with an agent's API token."""

    _block_type_name = "Patronage Zendesk Destination"
    _block_type_slug = "patronage-zendesk-destination"
    _description = "Retention cases as internal Zendesk tickets."

    base_url: str = Field(..., description="https://<subdomain>.zendesk.com")
    email: str = Field(..., description="The agent the API token belongs to.")
    api_token: SecretStr = Field(..., description="A Zendesk API token.")
    group_map: dict[str, int] = Field(
        default_factory=dict,
        description='Patronage owner or team → Zendesk group id, e.g. {"team:customer-care": 360001}.',
    )
    rate_per_second: float = Field(
        10.0, gt=0, description="Requests per second at most (the plan's limit)."
    )
    timeout_seconds: float = Field(15.0, gt=0, description="Timeout of one request.")
    parallel_requests: int = Field(
        8,
        ge=1,
        le=64,
        description="Requests in flight at once (safe: repeats are folded by the case id).",
    )

    def open(self) -> Session:
        return _ZendeskSession(self)


class _ZendeskSession(Session):
    def __init__(self, block: ZendeskDestination) -> None:
        self.block = block
        self.client = httpx.Client(
            base_url=block.base_url,
            timeout=block.timeout_seconds,
            auth=(f"{block.email}/token", block.api_token.get_secret_value()),
        )

    def send(self, envelope: Envelope) -> Outcome:
        case = envelope.payload
        owner = case.get("owner") or ""
        group = self.block.group_map.get(owner)
        if group is None:
            return Outcome(
                "dead",
                f"zendesk: group_map has no Zendesk group for {owner!r} "
                "(add it to the block's group_map, then `patronage outbox retry`)",
            )
        ticket = {
            "subject": envelope.subject,
            "comment": {"body": envelope.text, "public": False},
            "external_id": case["case_id"],
            "group_id": group,
            "priority": PRIORITY_BY_TIER.get(case.get("value_tier"), "low"),
            "due_at": f"{case['due_date']}T09:00:00Z",
            "type": "task",
            "tags": [PATRONAGE_TAG, "retention"],
        }
        if envelope.email:
            ticket["requester"] = {"email": envelope.email, "name": case["customer_id"]}
        try:
            response = self.client.post(
                "/api/v2/tickets.json",
                json={"ticket": ticket},
                headers={"Idempotency-Key": envelope.idempotency_key},
            )
        except httpx.HTTPError as exc:
            return network_outcome(exc, "zendesk")
        outcome = http_outcome(response, "zendesk")
        if outcome.verdict != "sent":
            return outcome
        return Outcome("sent", remote_ref=str(response.json()["ticket"]["id"]))

    def assigned_holder(self, case: dict) -> str | None:
        group = self.block.group_map.get(case.get("owner") or "")
        return None if group is None else str(group)

    def remote_states(self, refs: list[str]) -> dict[str, RemoteState]:
        states: dict[str, RemoteState] = {}
        for start in range(0, len(refs), 100):  # show_many takes 100 ids at most
            response = self.client.get(
                "/api/v2/tickets/show_many.json",
                params={"ids": ",".join(refs[start : start + 100])},
            )
            response.raise_for_status()
            for ticket in response.json().get("tickets", []):
                holder = ticket.get("assignee_id") or ticket.get("group_id")
                states[str(ticket["id"])] = RemoteState(
                    done=ticket.get("status") in ("solved", "closed"),
                    assignee=None if holder is None else str(holder),
                    status=str(ticket.get("status")),
                    updated_at=parse_remote_time(ticket.get("updated_at")),
                )
        return states

    def close(self) -> None:
        self.client.close()
