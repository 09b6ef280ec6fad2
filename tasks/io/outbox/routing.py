"""Route idea news to a destination, and put back what a killed run was sending."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from patronage.resources.database import ensure_schema
from patronage.schemas.tables import (
    contact_points,
    outbox,
)
from patronage.tasks.io.outbox.common import IDEA_KINDS


def recover_in_flight(engine: Engine) -> list[int]:
    """Put back what a killed run was sending; returns those ids."""
    ensure_schema(engine)
    with engine.begin() as conn:
        ids = list(
            conn.execute(select(outbox.c.id).where(outbox.c.status == "in_flight")).scalars()
        )
        if ids:
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(status="pending", last_error="in flight when a run stopped; sent again")
            )
    return ids


def route_pending(engine: Engine, configured: set[str]) -> dict[str, int]:
    """Give idea news a destination: a customer with an address and no opt-out by e-mail;
    anyone else (most suggesters are not customers) becomes a task for the community team in
    Slack. A message whose destination is not configured waits, unrouted, until it is.

    Returns:
        Counts: ``email``, ``slack``, ``skipped`` (opted out), ``waiting`` (no destination).
    """
    counts = {"email": 0, "slack": 0, "skipped": 0, "waiting": 0}
    with engine.begin() as conn:
        rows = conn.execute(
            select(
                outbox.c.id,
                outbox.c.kind,
                outbox.c.event_id,
                outbox.c.recipient_kind,
                outbox.c.recipient_id,
                outbox.c.idea_key,
                contact_points.c.email,
                contact_points.c.opted_out,
            )
            .select_from(
                outbox.outerjoin(
                    contact_points, contact_points.c.customer_id == outbox.c.recipient_id
                )
            )
            .where(
                outbox.c.status == "pending",
                outbox.c.destination.is_(None),
                outbox.c.kind.in_(IDEA_KINDS),
            )
            .order_by(outbox.c.id)
        ).all()
        for row in rows:
            if row.recipient_kind == "customer" and row.opted_out:
                values = {"status": "skipped", "last_error": "recipient opted out"}
                counts["skipped"] += 1
            else:
                reachable = row.recipient_kind == "customer" and bool(row.email)
                destination = "email" if reachable else "slack"
                if destination not in configured:
                    counts["waiting"] += 1
                    continue
                counts[destination] += 1
                values = {
                    "destination": destination,
                    "idempotency_key": f"{row.kind}:{row.event_id}:{row.recipient_id}:{destination}",
                    "item_key": row.idea_key,
                }
            conn.execute(update(outbox).where(outbox.c.id == row.id).values(**values))
    return counts
