"""The outbox as a delivery log, one module per subject: route messages to destinations, queue retention cases for the
CRM or helpdesk, hand out what is due in order, and record each attempt's outcome.

Only one delivery run works at a time (the deployment's concurrency limit), so nothing here
claims rows against other workers; a row ``in_flight`` at the start of a run is the one a
killed run was sending, and goes back to ``pending`` (counted: for Slack and e-mail it may
arrive twice, the destinations with idempotency keys fold the repeat).
"""

from patronage.tasks.io.outbox.admin import (
    LISTED_COLUMNS,
    OutboxError,
    discard_messages,
    get_outbox_message,
    list_outbox,
    outbox_counts,
    retry_messages,
)
from patronage.tasks.io.outbox.common import (
    IDEA_KINDS,
)
from patronage.tasks.io.outbox.contacts import (
    upsert_contact_points,
)
from patronage.tasks.io.outbox.following import (
    FollowedCase,
    cases_written_to,
    follow_remote_changes,
)
from patronage.tasks.io.outbox.queueing import (
    enqueue_cases,
    enqueue_operator_alerts,
    enqueue_team_messages,
)
from patronage.tasks.io.outbox.routing import (
    recover_in_flight,
    route_pending,
)
from patronage.tasks.io.outbox.sending import (
    DueMessage,
    OutboxWriter,
    due_messages,
)

__all__ = [
    "DueMessage",
    "FollowedCase",
    "IDEA_KINDS",
    "LISTED_COLUMNS",
    "OutboxError",
    "OutboxWriter",
    "cases_written_to",
    "discard_messages",
    "due_messages",
    "enqueue_cases",
    "enqueue_operator_alerts",
    "enqueue_team_messages",
    "follow_remote_changes",
    "get_outbox_message",
    "list_outbox",
    "outbox_counts",
    "recover_in_flight",
    "retry_messages",
    "route_pending",
    "upsert_contact_points",
]
