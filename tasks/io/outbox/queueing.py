"""Queue messages once each (unique idempotency keys): retention cases for the CRM or
helpdesk, team digests, SLA-breach and operator alerts."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, func, select

from patronage.schemas.tables import (
    outbox,
    retention_cases,
)
from patronage.tasks.io.outbox.common import _now
from patronage.tasks.io.sql_upsert import upsert


def enqueue_cases(engine: Engine, destination: str) -> int:
    """Queue every open retention case not yet sent to ``destination`` (HubSpot or Zendesk),
    once: the idempotency key ``case_opened:<case>:<destination>`` is unique."""
    with engine.begin() as conn:
        known = set(
            conn.execute(
                select(outbox.c.item_key).where(
                    outbox.c.kind == "case_opened", outbox.c.destination == destination
                )
            ).scalars()
        )
        cases = conn.execute(
            select(
                retention_cases.c.case_id,
                retention_cases.c.customer_id,
                retention_cases.c.value_tier,
                retention_cases.c.reason_codes,
                retention_cases.c.goal,
                retention_cases.c.owner,
                retention_cases.c.due_date,
                retention_cases.c.priority_rank,
            ).where(
                retention_cases.c.pipeline_state == "open",
                retention_cases.c.status != "resolved",
            )
        ).all()
        now = _now()
        rows = [
            {
                "recipient_kind": "customer",
                "recipient_id": c.customer_id,
                "item_key": c.case_id,
                "kind": "case_opened",
                "destination": destination,
                "idempotency_key": f"case_opened:{c.case_id}:{destination}",
                "payload": json.dumps(
                    {
                        "case_id": c.case_id,
                        "customer_id": c.customer_id,
                        "value_tier": c.value_tier,
                        "reasons": c.reason_codes,
                        "goal": c.goal,
                        "owner": c.owner,
                        "due_date": c.due_date.isoformat(),
                        "priority_rank": c.priority_rank,
                    },
                    sort_keys=True,
                ),
                "created_at": now,
            }
            for c in cases
            if c.case_id not in known
        ]
        upsert(conn, outbox, rows, ["idempotency_key"], None)
    return len(rows)


def enqueue_team_messages(
    engine: Engine, destination: str, today: date, digests: bool = True
) -> int:
    """Queue, once each: a digest per team for ``today`` (its new, due-today and overdue open
    cases, by id) and an SLA-breach alert per overdue case (per due date, so a case given a new
    due date that it misses again alerts again)."""
    with engine.begin() as conn:
        cases = conn.execute(
            select(
                retention_cases.c.case_id,
                retention_cases.c.owner,
                retention_cases.c.value_tier,
                retention_cases.c.due_date,
                retention_cases.c.opened_at,
                retention_cases.c.status,
            ).where(
                retention_cases.c.pipeline_state == "open",
                retention_cases.c.status != "resolved",
            )
        ).all()
        now = _now()
        since = datetime.combine(today, datetime.min.time()) - timedelta(days=1)
        teams: dict[str, dict[str, list[str]]] = {}
        alerts = []
        for c in sorted(cases, key=lambda c: (c.due_date, c.case_id)):
            digest = teams.setdefault(c.owner, {"new": [], "due_today": [], "overdue": []})
            if c.due_date < today:
                digest["overdue"].append(c.case_id)
                alerts.append(
                    _team_row("sla_breach", c.owner, c.case_id, destination,
                              f"sla_breach:{c.case_id}:{c.due_date.isoformat()}",
                              {"case_id": c.case_id, "owner": c.owner, "value_tier": c.value_tier,
                               "due_date": c.due_date.isoformat(), "status": c.status}, now)
                )  # fmt: skip
            elif c.due_date == today:
                digest["due_today"].append(c.case_id)
            if c.opened_at is not None and c.opened_at >= since:
                digest["new"].append(c.case_id)
        digests = [
            _team_row(
                "team_digest",
                team,
                f"digest:{team}",
                destination,
                f"team_digest:{team}:{today.isoformat()}",
                {"team": team, "date": today.isoformat(), **lists},
                now,
            )  # fmt: skip
            for team, lists in sorted(teams.items())
            if digests and any(lists.values())
        ]
        return _insert_new(conn, digests + alerts)


def _insert_new(conn: Connection, rows: list[dict]) -> int:
    """Insert the messages whose idempotency key is new; returns how many were."""
    count = select(func.count()).select_from(outbox)
    before = conn.execute(count).scalar()
    upsert(conn, outbox, rows, ["idempotency_key"], None)
    return conn.execute(count).scalar() - before


def _team_row(
    kind: str, team: str, item: str, destination: str, key: str, payload: dict, now: datetime
) -> dict:
    return {
        "recipient_kind": "team",
        "recipient_id": team,
        "item_key": item,
        "kind": kind,
        "destination": destination,
        "idempotency_key": key,
        "payload": json.dumps(payload, sort_keys=True),
        "created_at": now,
    }


def enqueue_operator_alerts(
    engine: Engine,
    destination: str,
    failed_runs: list[dict],
    dead_letter_threshold: int,
    today: date,
) -> int:
    """Queue, once each: an alert per failed or breached nightly run (by flow run id), and one
    per day when the dead letters reach ``dead_letter_threshold``."""
    now = _now()
    rows = [
        _team_row(
            "operator_alert",
            "operators",
            f"nightly:{r['id']}",
            destination,
            f"operator_alert:nightly:{r['id']}",
            {"what": "nightly", **r},
            now,
        )  # fmt: skip
        for r in failed_runs
    ]
    with engine.begin() as conn:
        dead = conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.status == "dead")
        ).scalar()
        if dead_letter_threshold and dead >= dead_letter_threshold:
            rows.append(
                _team_row(
                    "operator_alert",
                    "operators",
                    "dead_letters",
                    destination,
                    f"operator_alert:dead_letters:{today.isoformat()}",
                    {"what": "dead_letters", "count": dead},
                    now,
                )  # fmt: skip
            )
        return _insert_new(conn, rows)
