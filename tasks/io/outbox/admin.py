"""What operators do with the outbox: list, show, retry, discard."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, func, select, update

from patronage.resources.database import ensure_schema
from patronage.schemas.tables import (
    outbox,
)

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
    return _set_undelivered(engine, ids, status="pending", next_attempt_at=None, attempts=0)


def discard_messages(engine: Engine, ids: list[int], reason: str) -> int:
    """Messages that must not be sent (kept, marked discarded with the reason)."""
    return _set_undelivered(engine, ids, status="discarded", last_error=f"discarded: {reason}")


def _set_undelivered(engine: Engine, ids: list[int], **values) -> int:
    """Update messages that exist and were not delivered; refuse, naming the ids, otherwise."""
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
        return conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(**values)).rowcount
