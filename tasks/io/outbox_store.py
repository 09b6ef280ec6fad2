"""The outbox as a delivery log: route messages to destinations, queue retention cases for the
CRM or helpdesk, hand out what is due in order, and record each attempt's outcome.

Only one delivery run works at a time (the deployment's concurrency limit), so nothing here
claims rows against other workers; a row ``in_flight`` at the start of a run is the one a
killed run was sending, and goes back to ``pending`` (counted: for Slack and e-mail it may
arrive twice, the destinations with idempotency keys fold the repeat).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, select, update

from patronage.resources.database import ensure_schema
from patronage.schemas.tables import (
    contact_points,
    idea_supporters,
    ideation_items,
    outbox,
    retention_cases,
    work_log,
)
from patronage.tasks.io.sql_upsert import upsert

IDEA_KINDS = ("idea_status_changed", "idea_merged")
TEAM_KINDS = ("team_digest", "sla_breach", "operator_alert")
UNSENT = ("pending", "in_flight")
DONE = ("sent", "dead", "discarded", "skipped")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class DueMessage:
    """An outbox row to send, with what its text needs (looked up just before sending)."""

    id: int
    kind: str
    destination: str
    idempotency_key: str
    item_key: str
    recipient_kind: str
    recipient_id: str
    payload: dict
    attempts: int
    next_attempt_at: datetime | None
    email: str | None = None
    language: str | None = None
    title: str | None = None
    conversation_id: str | None = None

    @property
    def order_key(self) -> tuple[str, str, str]:
        """Messages with the same key arrive in the order they were queued."""
        return (self.item_key or "", self.recipient_id, self.destination)


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
) -> dict[str, int]:
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
        before = conn.execute(select(func.count()).select_from(outbox)).scalar()
        upsert(conn, outbox, digests + alerts, ["idempotency_key"], None)
        added = conn.execute(select(func.count()).select_from(outbox)).scalar() - before
    return {"team_messages_queued": added}


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


def due_messages(engine: Engine, limit: int) -> list[DueMessage]:
    """Routed, unsent messages in the order they were queued (deferred ones too: they hold
    back later messages of the same item), with addresses, languages and idea titles."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                outbox.c.id,
                outbox.c.kind,
                outbox.c.destination,
                outbox.c.idempotency_key,
                outbox.c.item_key,
                outbox.c.recipient_kind,
                outbox.c.recipient_id,
                outbox.c.payload,
                outbox.c.attempts,
                outbox.c.next_attempt_at,
                outbox.c.idea_key,
                contact_points.c.email,
                contact_points.c.language,
                ideation_items.c.title,
                idea_supporters.c.conversation_id,
            )
            .select_from(
                outbox.outerjoin(
                    contact_points, contact_points.c.customer_id == outbox.c.recipient_id
                )
                .outerjoin(ideation_items, ideation_items.c.idea_key == outbox.c.idea_key)
                .outerjoin(
                    idea_supporters,
                    and_(
                        idea_supporters.c.supporter_id == outbox.c.recipient_id,
                        idea_supporters.c.idea_key == outbox.c.idea_key,
                    ),
                )
            )
            .where(outbox.c.status == "pending", outbox.c.destination.is_not(None))
            .order_by(outbox.c.id)
            .limit(limit)
        ).all()
    seen: set[int] = set()
    messages = []
    for r in rows:
        if r.id in seen:  # a supporter of both merged ideas: one message
            continue
        seen.add(r.id)
        messages.append(
            DueMessage(
                id=r.id,
                kind=r.kind,
                destination=r.destination,
                idempotency_key=r.idempotency_key or f"outbox:{r.id}",
                item_key=r.item_key or r.idea_key or "",
                recipient_kind=r.recipient_kind,
                recipient_id=r.recipient_id,
                payload=json.loads(r.payload),
                attempts=int(r.attempts or 0),
                next_attempt_at=r.next_attempt_at,
                email=r.email,
                language=r.language,
                title=r.title,
                conversation_id=r.conversation_id,
            )
        )
    return messages


class OutboxWriter:
    """Records attempts: a wave of messages is marked in flight (one commit) before it is sent
    and its outcomes are committed as soon as it is settled, so a killed run leaves at most the
    wave it was sending in flight (one message for Slack and SMTP)."""

    def __init__(self, engine: Engine) -> None:
        self.conn: Connection = engine.connect()
        self.conn.begin()

    def begin_sends(self, message_ids: list[int]) -> None:
        """Mark messages in flight (and commit the outcomes recorded since the last mark)."""
        self.conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(message_ids))
            .values(status="in_flight", claimed_at=_now(), attempts=outbox.c.attempts + 1)
        )
        self.conn.commit()
        self.conn.begin()

    def finish(
        self,
        message_id: int,
        verdict: str,
        reason: str = "",
        remote_ref: str | None = None,
        retry_in: float | None = None,
    ) -> None:
        """``verdict``: sent, dead, or retry (pending again, due in ``retry_in`` seconds)."""
        now = _now()
        if verdict == "sent":
            values = {
                "status": "sent",
                "sent_at": now,
                "remote_ref": remote_ref,
                "last_error": None,
            }
        elif verdict == "dead":
            values = {"status": "dead", "last_error": reason}
        else:
            values = {
                "status": "pending",
                "last_error": reason,
                "next_attempt_at": now + timedelta(seconds=retry_in or 0),
            }
        self.conn.execute(update(outbox).where(outbox.c.id == message_id).values(**values))

    def commit(self) -> None:
        """Make the outcomes recorded so far durable."""
        self.conn.commit()
        self.conn.begin()

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()


def upsert_contact_points(conn: Connection, customers: pd.DataFrame) -> int:
    """Rewrite the customers' contact points (the closed loop's addresses) from tonight's CRM
    export: addresses change, customers leave the export."""
    now = _now()
    frame = customers.rename(columns={"email_opt_out": "opted_out"}).reindex(
        columns=["customer_id", "email", "language", "opted_out"]
    )
    rows = [
        {
            "customer_id": r.customer_id,
            "email": r.email if isinstance(r.email, str) and r.email else None,
            "language": r.language if isinstance(r.language, str) and r.language else None,
            "opted_out": 1 if str(r.opted_out).lower() in ("1", "true", "yes") else 0,
            "updated_at": now,
        }
        for r in frame.itertuples(index=False)
    ]
    present = {r["customer_id"] for r in rows}
    stale = [
        c for c in conn.execute(select(contact_points.c.customer_id)).scalars() if c not in present
    ]
    if stale:
        conn.execute(contact_points.delete().where(contact_points.c.customer_id.in_(stale)))
    upsert(
        conn,
        contact_points,
        rows,
        ["customer_id"],
        ["email", "language", "opted_out", "updated_at"],
    )
    return len(rows)


LISTED_COLUMNS = [
    "id", "kind", "destination", "status", "attempts", "item_key", "recipient_kind",
    "recipient_id", "next_attempt_at", "sent_at", "remote_ref", "last_error",
]  # fmt: skip


class OutboxError(ValueError):
    """An outbox operation that cannot be done as asked; the message names the id."""


def list_outbox(
    engine: Engine, status: str | None = None, destination: str | None = None, limit: int = 50
) -> pd.DataFrame:
    """Messages, newest first: ids, states and reasons (no addresses, no text)."""
    ensure_schema(engine)
    query = select(*(outbox.c[c] for c in LISTED_COLUMNS)).order_by(outbox.c.id.desc())
    if status:
        query = query.where(outbox.c.status == status)
    if destination:
        query = query.where(outbox.c.destination == destination)
    with engine.connect() as conn:
        return pd.read_sql(query.limit(limit), conn)


def outbox_counts(engine: Engine) -> dict[str, int]:
    """Messages per status."""
    ensure_schema(engine)

    with engine.connect() as conn:
        return dict(
            conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all()
        )


def get_outbox_message(engine: Engine, message_id: int) -> dict:
    """One message with its payload (ids, statuses, dates)."""
    with engine.connect() as conn:
        row = conn.execute(select(outbox).where(outbox.c.id == message_id)).mappings().first()
    if row is None:
        raise OutboxError(f"no outbox message {message_id}")
    return dict(row)


def retry_messages(engine: Engine, ids: list[int]) -> int:
    """Dead, skipped or discarded messages back to pending, due now (after fixing the block or
    the data that made them fail)."""
    with engine.begin() as conn:
        found = dict(
            conn.execute(select(outbox.c.id, outbox.c.status).where(outbox.c.id.in_(ids))).all()
        )
        missing = sorted(set(ids) - set(found))
        if missing:
            raise OutboxError(f"no outbox message {', '.join(map(str, missing))}")
        sent = sorted(i for i, s in found.items() if s == "sent")
        if sent:
            raise OutboxError(f"message {', '.join(map(str, sent))} was already delivered")
        return conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(status="pending", next_attempt_at=None, attempts=0)
        ).rowcount


def discard_messages(engine: Engine, ids: list[int], reason: str) -> int:
    """Messages that must not be sent (kept, marked discarded with the reason)."""
    with engine.begin() as conn:
        found = dict(
            conn.execute(select(outbox.c.id, outbox.c.status).where(outbox.c.id.in_(ids))).all()
        )
        missing = sorted(set(ids) - set(found))
        if missing:
            raise OutboxError(f"no outbox message {', '.join(map(str, missing))}")
        sent = sorted(i for i, s in found.items() if s == "sent")
        if sent:
            raise OutboxError(f"message {', '.join(map(str, sent))} was already delivered")
        return conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(status="discarded", last_error=f"discarded: {reason}")
        ).rowcount


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
        before = conn.execute(select(func.count()).select_from(outbox)).scalar()
        upsert(conn, outbox, rows, ["idempotency_key"], None)
        return conn.execute(select(func.count()).select_from(outbox)).scalar() - before
