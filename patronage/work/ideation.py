"""Working the ideation queue: an idea's status through its lifecycle (each change queues
the closed-loop news to its supporters), merging and splitting ideas."""

from __future__ import annotations

import json

from sqlalchemy import (
    Connection,
    Engine,
    case,
    delete,
    func,
    insert,
    select,
    update,
)

from patronage.schemas.tables import (
    idea_overrides,
    idea_supporters,
    outbox,
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
            "item_key": idea_key,
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
