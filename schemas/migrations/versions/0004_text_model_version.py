"""Each published run records which text model and encoder read its conversations.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_runs") as batch:
        batch.add_column(sa.Column("text_model_version", sa.String(length=96), nullable=True))
        batch.add_column(sa.Column("text_encoder", sa.String(length=96), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_runs") as batch:
        batch.drop_column("text_encoder")
        batch.drop_column("text_model_version")
