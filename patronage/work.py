"""Working the queues: the Python API behind ``patronage work`` and ``patronage ideas``.

Every function takes an engine and does its work in one transaction. What people do here lives
in people-owned columns (``status``, ``assignee``, ``claimed_at``, ``snoozed_until``,
``outcome``, ``resolved_at``) that the nightly publish never overwrites, plus an append-only
``work_log``. Claims are safe under concurrent workers: ``claim_next`` locks the row it takes
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and every claim is a
conditional update, so no item is ever claimed twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from patronage.database import ensure_schema, lock_for_writing
from schemas.tables import (
    idea_overrides,
    idea_supporters,
    ideation_items,
    outbox,
    retention_cases,
    text_corrections,
    work_log,
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
)
# outcome → the intent a person says the case's conversations do not have
CORRECTED_INTENT = {"not_a_churn_threat": "churn_threat", "not_a_complaint": "complaint"}
IDEA_STATUSES = ("new", "under_review", "planned", "shipped", "declined")
# The idea lifecycle: forward through review and planning, declined from anywhere open, and
# back one step when a decision is revisited.
IDEA_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("under_review", "declined"),
    "under_review": ("planned", "declined", "new"),
    "planned": ("shipped", "declined", "under_review"),
    "shipped": (),
    "declined": ("under_review",),
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class WorkError(ValueError):
    """A queue action that cannot be done as asked; the message says which item and why."""


class ItemNotFound(WorkError):
    """No item with that key in that queue."""


class AlreadyClaimed(WorkError):
    """Someone else holds the item."""


class InvalidTransition(WorkError):
    """The item's status does not allow the change."""


@dataclass(frozen=True)
class Queue:
    """One work queue's table and vocabulary.

    Attributes:
        name: ``retention`` or ``ideation``.
        table: Its SQL table.
        key: Natural key column.
        untouched_status: Status of an item nobody has worked on yet.
        done_statuses: Statuses that take an item off the work list.
        claimed_status: Status a claim sets (None: a claim only sets the assignee).
    """

    name: str
    table: Table
    key: str
    untouched_status: str
    done_statuses: tuple[str, ...]
    claimed_status: str | None

    @property
    def key_column(self):
        return self.table.c[self.key]


QUEUES: dict[str, Queue] = {
    "retention": Queue(
        "retention", retention_cases, "case_id", "open", ("resolved",), "in_progress"
    ),
    "ideation": Queue("ideation", ideation_items, "idea_key", "new", ("shipped", "declined"), None),
}
EXPORT_COLUMNS: dict[str, list[str]] = {
    "retention": [
        "priority_rank",
        "case_id",
        "customer_id",
        "value_tier",
        "clv",
        "value_at_risk",
        "priority_score",
        "reason_codes",
        "goal",
        "playbook",
        "owner",
        "due_date",
        "status",
        "assignee",
        "claimed_at",
        "snoozed_until",
        "outcome",
        "resolved_at",
        "evidence",
    ],
    "ideation": [
        "priority_rank",
        "idea_key",
        "title",
        "n_mentions",
        "n_supporters",
        "customer_supporters",
        "stakeholder_supporters",
        "votes",
        "priority_score",
        "first_seen",
        "last_activity",
        "status",
        "assignee",
        "snoozed_until",
        "merged_into",
    ],
}


def _queue(name: str) -> Queue:
    try:
        return QUEUES[name]
    except KeyError:
        raise WorkError(f"queue must be one of {', '.join(QUEUES)}, not {name!r}") from None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _log(
    conn: Connection,
    queue: Queue,
    key: str,
    action: str,
    actor: str,
    detail: str | dict | None = None,
) -> int:
    text = json.dumps(detail, sort_keys=True) if isinstance(detail, dict) else detail
    result = conn.execute(
        insert(work_log).values(
            queue=queue.name, item_key=key, action=action, actor=actor, detail=text, at=_now()
        )
    )
    return int(result.inserted_primary_key[0])


def _row(conn: Connection, queue: Queue, key: str, for_update: bool = False):
    query = select(queue.table).where(queue.key_column == key)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise ItemNotFound(f"{queue.name} queue has no item {key!r}")
    return row


def _not_done(queue: Queue):
    """Still published and not resolved / shipped / declined."""
    t = queue.table
    return and_(t.c.pipeline_state == "open", t.c.status.not_in(queue.done_statuses))


def _awake(queue: Queue, today: date):
    """Not snoozed past ``today``."""
    t = queue.table
    return or_(t.c.snoozed_until.is_(None), t.c.snoozed_until <= today)


def _writing(engine: Engine) -> Connection:
    """A connection whose transaction holds the write lock on SQLite from its first statement."""
    ensure_schema(engine)
    conn = engine.connect()
    if conn.dialect.name == "sqlite":
        lock_for_writing(conn)
    return conn


def list_items(
    engine: Engine,
    queue: str,
    *,
    assignee: str | None = None,
    include_snoozed: bool = False,
    include_done: bool = False,
    today: date | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Items to work on, highest priority first.

    Args:
        engine: Patronage database.
        queue: ``retention`` or ``ideation``.
        assignee: Only items this person holds.
        include_snoozed: Also items snoozed past ``today``.
        include_done: Also resolved cases, shipped or declined ideas, and closed items.
        today: Date snoozes are compared with (default: today, UTC).
        limit: At most this many rows.
    """
    q = _queue(queue)
    ensure_schema(engine)
    today = today or _now().date()
    t = q.table
    query = select(*(t.c[c] for c in EXPORT_COLUMNS[q.name]))
    if not include_done:
        query = query.where(_not_done(q))
    if not include_snoozed:
        query = query.where(_awake(q, today))
    if assignee is not None:
        query = query.where(t.c.assignee == assignee)
    query = query.order_by(t.c.priority_score.desc(), q.key_column).limit(limit)
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def get_item(engine: Engine, queue: str, key: str) -> dict:
    """One item, every column (evidence, playbook, people's fields)."""
    q = _queue(queue)
    ensure_schema(engine)
    with engine.connect() as conn:
        return dict(_row(conn, q, key))


def claim_next(engine: Engine, queue: str, worker: str, today: date | None = None) -> str | None:
    """Take the highest-priority unclaimed, unsnoozed item; returns its key, or None when the
    queue is empty. Concurrent workers each get a different item."""
    q = _queue(queue)
    today = today or _now().date()
    with _writing(engine) as conn:
        query = (
            select(q.key_column)
            .where(_not_done(q), _awake(q, today), q.table.c.assignee.is_(None))
            .order_by(q.table.c.priority_score.desc(), q.key_column)
            .limit(1)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        key = conn.execute(query).scalar()
        if key is None:
            conn.rollback()
            return None
        _take(conn, q, key, worker)
        conn.commit()
        return key


def _take(conn: Connection, q: Queue, key: str, worker: str) -> None:
    values = {"assignee": worker, "claimed_at": _now()}
    if q.claimed_status:
        values["status"] = q.claimed_status
    taken = conn.execute(
        update(q.table).where(q.key_column == key, q.table.c.assignee.is_(None)).values(**values)
    ).rowcount
    if taken != 1:
        holder = _row(conn, q, key)["assignee"]
        raise AlreadyClaimed(f"{q.name} item {key} is already claimed by {holder}")
    _log(conn, q, key, "claim", worker)


def claim(engine: Engine, queue: str, key: str, worker: str) -> None:
    """Take one named item. Claiming an item one already holds is a no-op.

    Raises:
        ItemNotFound: No such item.
        AlreadyClaimed: Someone else holds it.
        InvalidTransition: It is resolved, shipped, declined or closed.
    """
    q = _queue(queue)
    with _writing(engine) as conn:
        row = _row(conn, q, key, for_update=True)
        if row["assignee"] == worker:
            return
        if row["status"] in q.done_statuses or row["pipeline_state"] != "open":
            raise InvalidTransition(
                f"{q.name} item {key} is {row['status']} "
                f"({row['pipeline_state']}); there is nothing to claim"
            )
        _take(conn, q, key, worker)
        conn.commit()


def release(engine: Engine, queue: str, key: str, worker: str) -> None:
    """Give an item back to the queue (only its holder can)."""
    q = _queue(queue)
    with _writing(engine) as conn:
        row = _row(conn, q, key, for_update=True)
        if row["assignee"] != worker:
            raise AlreadyClaimed(
                f"{q.name} item {key} is held by {row['assignee'] or 'nobody'}, not {worker}"
            )
        values = {"assignee": None, "claimed_at": None}
        if q.claimed_status and row["status"] == q.claimed_status:
            values["status"] = q.untouched_status
        conn.execute(update(q.table).where(q.key_column == key).values(**values))
        _log(conn, q, key, "release", worker)
        conn.commit()


def snooze(engine: Engine, queue: str, key: str, until: date, actor: str) -> None:
    """Hide an item from the work list until ``until`` (the pipeline keeps updating it)."""
    q = _queue(queue)
    if until <= _now().date():
        raise WorkError(f"snooze date {until.isoformat()} for {key} must be after today")
    with _writing(engine) as conn:
        _row(conn, q, key, for_update=True)
        conn.execute(update(q.table).where(q.key_column == key).values(snoozed_until=until))
        _log(conn, q, key, "snooze", actor, {"until": until.isoformat()})
        conn.commit()


def add_note(engine: Engine, queue: str, key: str, body: str, actor: str) -> int:
    """Append a note to an item's work log; returns the log entry's id."""
    q = _queue(queue)
    if not body.strip():
        raise WorkError(f"note for {key} is empty")
    with _writing(engine) as conn:
        _row(conn, q, key)
        entry = _log(conn, q, key, "note", actor, body)
        conn.commit()
        return entry


def notes(engine: Engine, queue: str, key: str) -> pd.DataFrame:
    """An item's work log, oldest first: ``at``, ``actor``, ``action``, ``detail``."""
    q = _queue(queue)
    ensure_schema(engine)
    query = (
        select(work_log.c.at, work_log.c.actor, work_log.c.action, work_log.c.detail)
        .where(work_log.c.queue == q.name, work_log.c.item_key == key)
        .order_by(work_log.c.id)
    )
    with engine.connect() as conn:
        log = pd.read_sql(query, conn)
    log["detail"] = log["detail"].astype(object).where(log["detail"].notna(), None)
    return log


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
    from tasks.io.sql_upsert import upsert

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


def _notify_supporters(
    conn: Connection,
    event_id: int,
    idea_key: str,
    kind: str,
    payload: dict,
    skip: set[str] = frozenset(),
    of_idea: str | None = None,
) -> int:
    supporters = conn.execute(
        select(idea_supporters.c.supporter_id, idea_supporters.c.supporter_kind)
        .where(idea_supporters.c.idea_key == (of_idea or idea_key))
        .order_by(idea_supporters.c.supporter_id)
    ).all()
    rows = [
        {
            "event_id": event_id,
            "recipient_kind": kind_,
            "recipient_id": sid,
            "idea_key": idea_key,
            "kind": kind,
            "payload": json.dumps(payload, sort_keys=True),
            "created_at": _now(),
        }
        for sid, kind_ in dict(supporters).items()
        if sid not in skip
    ]
    if rows:
        conn.execute(insert(outbox), rows)
    return len(rows)


def set_idea_status(engine: Engine, idea_key: str, status: str, actor: str) -> int:
    """Move an idea through its lifecycle and queue one notification per supporter.

    Returns:
        Notifications written to the outbox (0 when the status is already ``status``).

    Raises:
        InvalidTransition: The lifecycle does not allow the change, or the idea was merged.
    """
    q = QUEUES["ideation"]
    if status not in IDEA_STATUSES:
        raise WorkError(
            f"status for {idea_key} must be one of {', '.join(IDEA_STATUSES)}, not {status!r}"
        )
    with _writing(engine) as conn:
        row = _row(conn, q, idea_key, for_update=True)
        if row["merged_into"]:
            raise InvalidTransition(
                f"idea {idea_key} was merged into {row['merged_into']}; change that idea instead"
            )
        old = row["status"]
        if old == status:
            return 0
        if status not in IDEA_TRANSITIONS[old]:
            allowed = ", ".join(IDEA_TRANSITIONS[old]) or "nothing"
            raise InvalidTransition(
                f"idea {idea_key} is {old}; it can move to {allowed}, not {status}"
            )
        changed = conn.execute(
            update(q.table)
            .where(q.key_column == idea_key, q.table.c.status == old)
            .values(status=status, status_changed_at=_now())
        ).rowcount
        if changed != 1:  # someone else changed it first (SQLite has no row lock to wait on)
            raise InvalidTransition(f"idea {idea_key} changed while updating; try again")
        event = _log(conn, q, idea_key, "status", actor, {"from": old, "to": status})
        sent = _notify_supporters(
            conn,
            event,
            idea_key,
            "idea_status_changed",
            {"idea_key": idea_key, "from": old, "to": status},
        )
        conn.commit()
        return sent


def merge_ideas(engine: Engine, source: str, target: str, actor: str) -> dict[str, int]:
    """Fold idea ``source`` into ``target``: supporters and votes move, ``source`` is closed
    with ``merged_into``, and every later run clusters them together.

    Supporters of ``source`` who do not already back ``target`` get one ``idea_merged``
    notification; from then on they hear about ``target`` like everyone else, once per change.

    Returns:
        ``moved`` (supporters moved), ``already_supporting`` (backers of both, kept once) and
        ``notified``.
    """
    q = QUEUES["ideation"]
    if source == target:
        raise WorkError(f"cannot merge idea {source} into itself")
    with _writing(engine) as conn:
        src = _row(conn, q, source, for_update=True)
        dst = _row(conn, q, target, for_update=True)
        for row, name in ((src, source), (dst, target)):
            if row["merged_into"]:
                raise InvalidTransition(f"idea {name} was already merged into {row['merged_into']}")
        target_backers = set(
            conn.execute(
                select(idea_supporters.c.supporter_id).where(idea_supporters.c.idea_key == target)
            ).scalars()
        )
        source_backers = set(
            conn.execute(
                select(idea_supporters.c.supporter_id).where(idea_supporters.c.idea_key == source)
            ).scalars()
        )
        event = _log(conn, q, source, "merge", actor, {"into": target})
        notified = _notify_supporters(
            conn,
            event,
            target,
            "idea_merged",
            {"idea_key": target, "merged": source, "status": dst["status"]},
            skip=target_backers,
            of_idea=source,
        )
        both = source_backers & target_backers
        conn.execute(
            delete(idea_supporters).where(
                idea_supporters.c.idea_key == source, idea_supporters.c.supporter_id.in_(both)
            )
        )
        conn.execute(
            update(idea_supporters)
            .where(idea_supporters.c.idea_key == source)
            .values(idea_key=target)
        )
        counts = conn.execute(
            select(
                func.count(),
                func.sum(case((idea_supporters.c.supporter_kind == "customer", 1), else_=0)),
            ).where(idea_supporters.c.idea_key == target)
        ).one()
        n_supporters, n_customers = int(counts[0]), int(counts[1] or 0)
        conn.execute(
            update(q.table)
            .where(q.key_column == target)
            .values(
                votes=dst["votes"] + src["votes"],
                n_mentions=dst["n_mentions"] + src["n_mentions"],
                n_supporters=n_supporters,
                customer_supporters=n_customers,
                stakeholder_supporters=n_supporters - n_customers,
                priority_score=dst["priority_score"] + src["priority_score"],
                first_seen=min(dst["first_seen"], src["first_seen"]),
                last_activity=max(dst["last_activity"], src["last_activity"]),
            )
        )
        conn.execute(
            update(q.table)
            .where(q.key_column == source)
            .values(
                merged_into=target, pipeline_state="closed", closed_reason=f"merged into {target}"
            )
        )
        _save_override(conn, source, "merge", target, actor)
        conn.commit()
    return {
        "moved": len(source_backers - both),
        "already_supporting": len(both),
        "notified": notified,
    }


def split_idea(engine: Engine, conversation_id: str, actor: str) -> None:
    """Take one mention (e.g. ``post:P0000123``) out of whatever idea it was clustered into;
    from the next run on it stands as an idea of its own."""
    if ":" not in conversation_id:
        raise WorkError(f"conversation id {conversation_id!r} must look like 'post:…' or 'idea:…'")
    with _writing(engine) as conn:
        _save_override(conn, conversation_id, "split", None, actor)
        _log(conn, QUEUES["ideation"], conversation_id, "split", actor)
        conn.commit()


def _save_override(
    conn: Connection, subject: str, decision: str, target: str | None, actor: str
) -> None:
    conn.execute(delete(idea_overrides).where(idea_overrides.c.subject == subject))
    conn.execute(
        insert(idea_overrides).values(
            subject=subject, decision=decision, target=target, decided_by=actor, decided_at=_now()
        )
    )


def escape_formula(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with ``'``; numbers pass as they
    are (a negative number is data, not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def export_queue(engine: Engine, queue: str, path: Path, *, include_done: bool = False) -> int:
    """Write a queue to ``path``: ``.csv`` (formula cells escaped) or ``.parquet`` (typed).

    Returns:
        Rows written.
    """
    path = Path(path)
    if path.suffix not in (".csv", ".parquet"):
        raise WorkError(f"export file {path} must end in .csv or .parquet")
    frame = list_items(engine, queue, include_snoozed=True, include_done=include_done)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.map(escape_formula).to_csv(path, index=False)
    return len(frame)
