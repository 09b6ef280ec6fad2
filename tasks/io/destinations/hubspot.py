"""HubSpot: a retention case becomes a task on the customer's contact, upserted by the case id
kept in a custom task property (so a repeat never makes a second task)."""

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
from patronage.tasks.transforms.delivery.retry_policy import Outcome

# HubSpot's own association type of a task to a contact.
TASK_TO_CONTACT = 204
PRIORITY_BY_TIER = {"high_value": "HIGH", "high_potential": "MEDIUM"}


class HubSpotDestination(Block):
    """A HubSpot portal reached with a private app's token."""

    _block_type_name = "Patronage HubSpot Destination"
    _block_type_slug = "patronage-hubspot-destination"
    _description = "Retention cases as HubSpot tasks on the customer's contact."

    token: SecretStr = Field(..., description="A private app's access token (crm.objects.*).")
    base_url: str = Field("https://api.hubapi.com", description="HubSpot's API root.")
    case_id_property: str = Field(
        "patronage_case_id",
        description="A unique-value custom task property holding the Patronage case id.",
    )
    owner_map: dict[str, str] = Field(
        default_factory=dict,
        description='Patronage owner or team → HubSpot owner id, e.g. {"team:key-accounts": "8812"}.',
    )
    rate_per_second: float = Field(
        9.0, gt=0, description="Requests per second at most (HubSpot allows 10 per app)."
    )
    timeout_seconds: float = Field(15.0, gt=0, description="Timeout of one request.")
    parallel_requests: int = Field(
        4,
        ge=1,
        le=64,
        description="Requests in flight at once (safe: repeats are folded by the case id).",
    )

    def open(self) -> Session:
        return _HubSpotSession(self)


class _HubSpotSession(Session):
    def __init__(self, block: HubSpotDestination) -> None:
        self.block = block
        self.client = httpx.Client(
            base_url=block.base_url,
            timeout=block.timeout_seconds,
            headers={"Authorization": f"Bearer {block.token.get_secret_value()}"},
        )

    def send(self, envelope: Envelope) -> Outcome:
        case = envelope.payload
        owner = case.get("owner") or ""
        owner_id = self.block.owner_map.get(owner)
        if owner_id is None:
            return Outcome(
                "dead",
                f"hubspot: owner_map has no HubSpot owner for {owner!r} "
                "(add it to the block's owner_map, then `patronage outbox retry`)",
            )
        try:
            contact_id = self._contact_id(envelope.email) if envelope.email else None
            if isinstance(contact_id, Outcome):
                return contact_id
            task = self.client.post(
                "/crm/v3/objects/tasks/batch/upsert",
                json={
                    "inputs": [
                        {
                            "idProperty": self.block.case_id_property,
                            "id": case["case_id"],
                            "properties": {
                                self.block.case_id_property: case["case_id"],
                                "hs_task_subject": envelope.subject,
                                "hs_task_body": envelope.text,
                                "hs_task_status": "NOT_STARTED",
                                "hs_task_priority": PRIORITY_BY_TIER.get(
                                    case.get("value_tier"), "LOW"
                                ),
                                "hs_timestamp": f"{case['due_date']}T09:00:00Z",
                                "hubspot_owner_id": owner_id,
                            },
                        }
                    ]
                },
            )
            outcome = http_outcome(task, "hubspot", conflict_means_sent=True)
            if outcome.verdict != "sent" or task.status_code == 409:
                return outcome
            task_id = str(task.json()["results"][0]["id"])
            if contact_id:
                linked = self.client.put(
                    f"/crm/v4/objects/tasks/{task_id}/associations/default/contacts/{contact_id}"
                )
                outcome = http_outcome(linked, "hubspot")
                if outcome.verdict != "sent":
                    return outcome
        except httpx.HTTPError as exc:
            return network_outcome(exc, "hubspot")
        return Outcome("sent", remote_ref=task_id)

    def _contact_id(self, email: str) -> str | None | Outcome:
        found = self.client.post(
            "/crm/v3/objects/contacts/search",
            json={
                "filterGroups": [
                    {"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}
                ],
                "properties": ["email"],
                "limit": 1,
            },
        )
        outcome = http_outcome(found, "hubspot")
        if outcome.verdict != "sent":
            return outcome
        results = found.json().get("results") or []
        return str(results[0]["id"]) if results else None

    def assigned_holder(self, case: dict) -> str | None:
        return self.block.owner_map.get(case.get("owner") or "")

    def remote_states(self, refs: list[str]) -> dict[str, RemoteState]:
        states: dict[str, RemoteState] = {}
        for start in range(0, len(refs), 100):  # batch read takes 100 ids at most
            response = self.client.post(
                "/crm/v3/objects/tasks/batch/read",
                json={
                    "inputs": [{"id": ref} for ref in refs[start : start + 100]],
                    "properties": ["hs_task_status", "hubspot_owner_id", "hs_lastmodifieddate"],
                },
            )
            response.raise_for_status()
            for task in response.json().get("results", []):
                props = task.get("properties", {})
                states[str(task["id"])] = RemoteState(
                    done=props.get("hs_task_status") == "COMPLETED",
                    assignee=props.get("hubspot_owner_id"),
                    status=str(props.get("hs_task_status")),
                    updated_at=parse_remote_time(
                        props.get("hs_lastmodifieddate") or task.get("updatedAt")
                    ),
                )
        return states

    def close(self) -> None:
        self.client.close()
