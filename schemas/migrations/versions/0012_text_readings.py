"""Each stored text's reading (intent, confidence, sentiment) by the text model in use, next to
its vector: a night reads again only text it has not read with that model.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("text_embeddings") as batch:
        batch.add_column(sa.Column("reading_model", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("intent", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("intent_confidence", sa.Float(), nullable=True))
        batch.add_column(sa.Column("sentiment", sa.Float(), nullable=True))
        batch.add_column(sa.Column("sentiment_label", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("text_embeddings") as batch:
        batch.drop_column("sentiment_label")
        batch.drop_column("sentiment")
        batch.drop_column("intent_confidence")
        batch.drop_column("intent")
        batch.drop_column("reading_model")
