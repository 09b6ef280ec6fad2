"""Record linkage's memory between nights: the trained model with the term frequencies it was
trained with, and the hashes of the profiles it already compared, so a night compares only
new or changed authors and customers.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_linkage_state",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.String(length=64), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("trained_as_of", sa.Date(), nullable=False),
        sa.Column("trained_profiles", sa.Integer(), nullable=False),
        sa.Column("compared_under", sa.String(length=64), nullable=False),
        sa.Column("customers", sa.LargeBinary(), nullable=False),
        sa.Column("authors", sa.LargeBinary(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("record_linkage_state")
