"""What a night worked out once and need not work out again: each stored text's language next
to its vector, each customer's phone number in E.164 next to the number as the CRM holds it,
and the content hashes of the rows that passed each dataset's contract.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("text_embeddings") as batch:
        batch.add_column(sa.Column("language", sa.String(length=16), nullable=True))
    with op.batch_alter_table("contact_points") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("phone_region", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("phone_key", sa.String(length=80), nullable=True))
    op.create_table(
        "validated_rows",
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("validation_version", sa.String(length=64), nullable=False),
        sa.Column("hash_version", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("row_hashes", sa.LargeBinary(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("dataset"),
    )


def downgrade() -> None:
    op.drop_table("validated_rows")
    with op.batch_alter_table("contact_points") as batch:
        batch.drop_column("phone_key")
        batch.drop_column("phone_region")
        batch.drop_column("phone")
    with op.batch_alter_table("text_embeddings") as batch:
        batch.drop_column("language")
