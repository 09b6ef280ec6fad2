"""What every destination shares: the message it is handed, and the send contract."""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from patronage.tasks.transforms.delivery.retry_policy import (
    Outcome,
    outcome_of_status,
    parse_retry_after,
)


class DestinationConfigError(ValueError):
    """A destination block that cannot be used as configured; the message names the block and
    the field."""


@dataclass(repr=False)
class Envelope:
    """One message, ready to send.

    Attributes:
        message_id: The outbox row.
        idempotency_key: What the destination sees as the message's identity.
        kind: ``idea_news``, ``community_task`` or ``case_opened``.
        recipient_id: The person or team it is for (an id, never an address).
        subject: A short subject line.
        text: The message text, rendered from the company's templates.
        payload: The outbox payload (ids, statuses, dates).
        email: The recipient's address, read from ``contact_points`` just before sending.
        recipient_kind: ``customer``, ``stakeholder`` or ``team``.
    """

    message_id: int
    idempotency_key: str
    kind: str
    recipient_id: str
    subject: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)
    email: str | None = None
    recipient_kind: str = "customer"

    def __repr__(self) -> str:
        # Logged on failure: ids only.
        return f"Envelope({self.message_id}, {self.kind}, {self.idempotency_key})"


@dataclass(frozen=True)
class RemoteState:
    """A task or ticket as the CRM or helpdesk has it now.

    Attributes:
        done: Completed (HubSpot) or solved/closed (Zendesk) there.
        assignee: Who holds it there (a HubSpot owner id, a Zendesk assignee or group id).
        status: The remote status word, for the work log.
        updated_at: When it last changed there (UTC, naive).
    """

    done: bool
    assignee: str | None
    status: str
    updated_at: datetime | None


class Session(AbstractContextManager):
    """A destination's connection for one delivery run (an HTTP client, an SMTP connection)."""

    def send(self, envelope: Envelope) -> Outcome:  # pragma: no cover - interface
        raise NotImplementedError

    def remote_states(self, refs: list[str]) -> dict[str, RemoteState]:
        """The state of tasks or tickets this destination created (only CRMs and helpdesks)."""
        return {}

    def assigned_holder(self, case: dict) -> str | None:
        """Who Patronage gave a case to there when it wrote it (owner or group id)."""
        return None

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the connection."""


class RateLimiter:
    """At most ``per_second`` sends, spaced evenly (a destination's documented limit)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second and per_second > 0 else 0.0
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:  # senders of one destination share its limit
            now = time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + self.interval
        if start > now:
            time.sleep(start - now)


def http_outcome(
    response: httpx.Response, destination: str, conflict_means_sent: bool = False
) -> Outcome:
    """The outcome of an HTTP answer, with ``Retry-After`` read."""
    return outcome_of_status(
        response.status_code,
        destination,
        parse_retry_after(response.headers.get("Retry-After")),
        conflict_means_sent,
    )


def network_outcome(exc: Exception, destination: str) -> Outcome:
    """A timeout or refused connection: try again later."""
    return Outcome("retry", f"{destination}: {type(exc).__name__}")


def parse_remote_time(value: object) -> datetime | None:
    """An ISO 8601 time from an API (``2026-12-02T09:00:00Z``) as naive UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed
