"""Hand out what is due, in order, and record each attempt."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, select, update

from patronage.schemas.tables import (
    contact_points,
    idea_supporters,
    ideation_items,
    outbox,
)
from patronage.tasks.io.outbox.common import _now


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
