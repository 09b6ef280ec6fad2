"""Sources count the runs in a row in which they brought nothing, so a stuck one is noticed.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_state") as batch:
        batch.add_column(sa.Column("quiet_runs", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_rows_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("source_state") as batch:
        batch.drop_column("last_rows_at")
        batch.drop_column("quiet_runs")
