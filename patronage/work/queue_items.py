"""Working any queue: list, show, claim (safe under concurrent workers), release, snooze, note.

Every function takes an engine (from the ``PatronageDatabase`` block) and does its work in one
transaction. What people do lives in people-owned columns (``status``, ``assignee``,
``claimed_at``, ``snoozed_until``, ``outcome``, ``resolved_at``) that the nightly publish never
overwrites, plus an append-only ``work_log``. ``claim_next`` locks the row it takes (``FOR
UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and every claim is a
conditional update, so no item is ever claimed twice.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    insert,
    or_,
    select,
    update,
)

from patronage.resources.database import ensure_schema, lock_for_writing
from patronage.schemas.tables import (
    ideation_items,
    retention_cases,
    work_log,
)

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


def claim_next(
    engine: Engine,
    queue: str,
    worker: str,
    today: date | None = None,
    owners: Collection[str] | None = None,
) -> str | None:
    """Take the highest-priority unclaimed, unsnoozed item (of ``owners``' items, when given);
    returns its key, or None when there is none. Concurrent workers each get a different item."""
    q = _queue(queue)
    today = today or _now().date()
    with _writing(engine) as conn:
        conditions = [_not_done(q), _awake(q, today), q.table.c.assignee.is_(None)]
        if owners is not None:
            conditions.append(q.table.c.owner.in_(list(owners)))
        query = (
            select(q.key_column)
            .where(*conditions)
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
