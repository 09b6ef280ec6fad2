"""A hash of the CRM fields each contact point was written from: a night compares its customers
by it instead of reading every stored address back.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null for the rows already there: the first night after compares them all once.
    with op.batch_alter_table("contact_points") as batch:
        batch.add_column(sa.Column("content_hash", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact_points") as batch:
        batch.drop_column("content_hash")
