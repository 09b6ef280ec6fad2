"""Stored sentence vectors, so each night encodes only text it has not seen before; and the
corrections people make to what a text says (a case resolved as "not a churn threat").

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_embeddings",
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("text_hash", sa.String(length=32), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "text_hash"),
    )
    op.create_table(
        "text_corrections",
        sa.Column("conversation_id", sa.String(length=96), nullable=False),
        sa.Column("not_intent", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "not_intent"),
    )


def downgrade() -> None:
    op.drop_table("text_corrections")
    op.drop_table("text_embeddings")
