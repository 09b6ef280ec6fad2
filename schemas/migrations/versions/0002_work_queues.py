"""Working the queues: claims, outcomes, idea lifecycle, work log, outbox, idea overrides and
kept identity links. Notes move from a column on each item to the append-only work log.

Revision ID: 0002
Revises: 0001
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

QUEUE_KEYS = {
    "retention_cases": ("retention", "case_id"),
    "ideation_items": ("ideation", "idea_key"),
}


def upgrade() -> None:
    op.create_table(
        "idea_overrides",
        sa.Column("subject", sa.String(length=96), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.create_table(
        "identity_links",
        sa.Column("identity_key", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("first_run_id", sa.String(length=64), nullable=False),
        sa.Column("last_run_id", sa.String(length=64), nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("identity_key"),
    )
    work_log = op.create_table(
        "work_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("item_key", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("work_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_log_item_key"), ["item_key"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("recipient_kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_id", sa.String(length=64), nullable=False),
        sa.Column("idea_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["work_log.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "recipient_id", name="uq_outbox_event_recipient"),
    )

    # Notes written before this revision become the first entries of the work log.
    conn = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    for table_name, (queue, key) in QUEUE_KEYS.items():
        table = sa.table(table_name, sa.column(key), sa.column("notes"), sa.column("assignee"))
        rows = conn.execute(
            sa.select(table.c[key], table.c.notes, table.c.assignee).where(
                table.c.notes.is_not(None), table.c.notes != ""
            )
        ).all()
        if rows:
            op.bulk_insert(
                work_log,
                [
                    {
                        "queue": queue,
                        "item_key": item_key,
                        "action": "note",
                        "actor": assignee or "unknown (before migration 0002)",
                        "detail": notes,
                        "at": now,
                    }
                    for item_key, notes, assignee in rows
                ],
            )

    with op.batch_alter_table("ideation_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opened_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("snoozed_until", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("status_changed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("merged_into", sa.String(length=64), nullable=True))
        batch_op.drop_column("notes")
    with op.batch_alter_table("retention_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opened_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))
        batch_op.drop_column("notes")


def downgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("retention_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        for column in ("resolved_at", "outcome", "claimed_at", "opened_at"):
            batch_op.drop_column(column)
    with op.batch_alter_table("ideation_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        for column in (
            "merged_into",
            "status_changed_at",
            "snoozed_until",
            "claimed_at",
            "opened_at",
        ):
            batch_op.drop_column(column)
    # Notes go back onto their items, joined in order; the rest of the log has no place there.
    log = sa.table(
        "work_log",
        sa.column("queue"),
        sa.column("item_key"),
        sa.column("action"),
        sa.column("detail"),
        sa.column("id"),
    )
    notes: dict[tuple[str, str], list[str]] = {}
    for queue, item_key, detail in conn.execute(
        sa.select(log.c.queue, log.c.item_key, log.c.detail)
        .where(log.c.action == "note")
        .order_by(log.c.id)
    ):
        notes.setdefault((queue, item_key), []).append(detail or "")
    for table_name, (queue, key) in QUEUE_KEYS.items():
        table = sa.table(table_name, sa.column(key), sa.column("notes"))
        for (q, item_key), bodies in notes.items():
            if q == queue:
                conn.execute(
                    sa.update(table).where(table.c[key] == item_key).values(notes="\n".join(bodies))
                )
    op.drop_table("outbox")
    with op.batch_alter_table("work_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_log_item_key"))
    op.drop_table("work_log")
    op.drop_table("identity_links")
    op.drop_table("idea_overrides")
