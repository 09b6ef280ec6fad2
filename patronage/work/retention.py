"""Working the retention queue: resolve a case with its outcome; outcomes that say the
evidence was misread become corrections the text models learn from."""

from __future__ import annotations

import json

from sqlalchemy import (
    Connection,
    Engine,
    update,
)

from patronage.schemas.tables import (
    text_corrections,
)
from patronage.work.queue_items import (
    QUEUES,
    InvalidTransition,
    WorkError,
    _log,
    _now,
    _row,
    _writing,
)

RESOLVE_OUTCOMES = (
    "retained",
    "won_back",
    "lost",
    "not_at_risk",
    "unreachable",
    # Dispositions the text models learn from: the case's evidence misread the customer.
    "not_a_churn_threat",
    "not_a_complaint",
    # Completed in the CRM or solved in the helpdesk it was written to (set by delivery).
    "closed_elsewhere",
)


# outcome → the intent a person says the case's conversations do not have
CORRECTED_INTENT = {"not_a_churn_threat": "churn_threat", "not_a_complaint": "complaint"}


def resolve_case(
    engine: Engine, case_id: str, outcome: str, actor: str, note: str | None = None
) -> None:
    """Close a retention case with its outcome; the pipeline never reopens it (a customer at
    risk again later gets a new case)."""
    q = QUEUES["retention"]
    if outcome not in RESOLVE_OUTCOMES:
        raise WorkError(
            f"outcome for {case_id} must be one of {', '.join(RESOLVE_OUTCOMES)}, not {outcome!r}"
        )
    with _writing(engine) as conn:
        row = _row(conn, q, case_id, for_update=True)
        if row["status"] == "resolved":
            raise InvalidTransition(f"case {case_id} is already resolved ({row['outcome']})")
        conn.execute(
            update(q.table)
            .where(q.key_column == case_id)
            .values(status="resolved", outcome=outcome, resolved_at=_now())
        )
        _log(conn, q, case_id, "resolve", actor, {"outcome": outcome})
        if outcome in CORRECTED_INTENT:
            _record_text_corrections(
                conn, case_id, row["evidence"], CORRECTED_INTENT[outcome], actor
            )
        if note:
            _log(conn, q, case_id, "note", actor, note)
        conn.commit()


def _record_text_corrections(
    conn: Connection, case_id: str, evidence: str | None, not_intent: str, actor: str
) -> None:
    """Each conversation the case cites as ``not_intent`` is recorded as not having it."""
    from patronage.tasks.io.sql_upsert import upsert

    doc = json.loads(evidence or "{}")
    items = doc.get("items", []) if isinstance(doc, dict) else []
    cited = sorted(
        {
            i["conversation_id"]
            for i in items
            if isinstance(i, dict) and i.get("intent") == not_intent and i.get("conversation_id")
        }
    )
    rows = [
        {
            "conversation_id": c,
            "not_intent": not_intent,
            "case_id": case_id,
            "decided_by": actor,
            "decided_at": _now(),
        }
        for c in cited
    ]
    upsert(conn, text_corrections, rows, ["conversation_id", "not_intent"], None)
