"""Delivery: the outbox becomes a delivery log (destination, idempotency key, attempts, dead
letters, remote ids), and customers' contact points are kept for the closed loop to suggesters.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("event_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("idea_key", existing_type=sa.String(length=64), nullable=True)
        batch.add_column(sa.Column("item_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("destination", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("idempotency_key", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="pending")
        )
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("remote_ref", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch.create_unique_constraint("uq_outbox_idempotency_key", ["idempotency_key"])
    # Messages queued before delivery existed and already marked sent stay sent.
    op.execute("UPDATE outbox SET status = 'sent' WHERE sent_at IS NOT NULL")
    op.execute("UPDATE outbox SET item_key = idea_key WHERE item_key IS NULL")
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])
    op.create_table(
        "contact_points",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("opted_out", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
    )


def downgrade() -> None:
    op.drop_table("contact_points")
    op.drop_index("ix_outbox_status_next", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_idempotency_key", type_="unique")
        for column in (
            "claimed_at", "remote_ref", "last_error", "next_attempt_at", "attempts", "status",
            "idempotency_key", "destination", "item_key",
        ):  # fmt: skip
            batch.drop_column(column)
