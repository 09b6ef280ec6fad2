"""Follow back what people did to the cases in the CRM or helpdesk."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from patronage.schemas.tables import (
    outbox,
    retention_cases,
    work_log,
)
from patronage.tasks.io.outbox.common import _now


@dataclass
class FollowedCase:
    """A case Patronage wrote to a CRM or helpdesk, as Patronage has it now."""

    case_id: str
    remote_ref: str
    payload: dict
    status: str
    assignee: str | None
    claimed_at: datetime | None


def cases_written_to(engine: Engine, destination: str) -> list[FollowedCase]:
    """Open cases whose task or ticket ``destination`` acknowledged (with its id)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                outbox.c.item_key,
                outbox.c.remote_ref,
                outbox.c.payload,
                retention_cases.c.status,
                retention_cases.c.assignee,
                retention_cases.c.claimed_at,
            )
            .select_from(
                outbox.join(retention_cases, retention_cases.c.case_id == outbox.c.item_key)
            )
            .where(
                outbox.c.kind == "case_opened",
                outbox.c.destination == destination,
                outbox.c.status == "sent",
                outbox.c.remote_ref.is_not(None),
                retention_cases.c.status != "resolved",
            )
        ).all()
    return [
        FollowedCase(
            r.item_key, r.remote_ref, json.loads(r.payload), r.status, r.assignee, r.claimed_at
        )  # fmt: skip
        for r in rows
    ]


def follow_remote_changes(
    engine: Engine, destination: str, changes: list[tuple[FollowedCase, str, dict]]
) -> dict[str, int]:
    """Apply what people did in the CRM or helpdesk to the Patronage cases.

    Args:
        engine: The Patronage database.
        destination: ``hubspot`` or ``zendesk`` (the actor in the work log).
        changes: ``(case, action, detail)``: action ``resolve`` (done there: outcome
            ``closed_elsewhere``) or ``assign`` (``detail["assignee"]`` holds it there now).
    """
    counts = {"resolved": 0, "reassigned": 0}
    now = _now()
    with engine.begin() as conn:
        for case, action, detail in changes:
            if action == "resolve":
                done = conn.execute(
                    update(retention_cases)
                    .where(
                        retention_cases.c.case_id == case.case_id,
                        retention_cases.c.status != "resolved",
                    )
                    .values(status="resolved", outcome="closed_elsewhere", resolved_at=now)
                ).rowcount
                counts["resolved"] += done
            else:
                done = conn.execute(
                    update(retention_cases)
                    .where(
                        retention_cases.c.case_id == case.case_id,
                        retention_cases.c.status != "resolved",
                    )
                    .values(
                        assignee=detail["assignee"],
                        status="in_progress",
                        claimed_at=detail.get("at") or now,
                    )
                ).rowcount
                counts["reassigned"] += done
            if done:
                conn.execute(
                    work_log.insert().values(
                        queue="retention",
                        item_key=case.case_id,
                        action=action,
                        actor=destination,
                        detail=json.dumps({k: str(v) for k, v in detail.items()}, sort_keys=True),
                        at=now,
                    )
                )
    return counts
