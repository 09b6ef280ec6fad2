"""The layout of the first release (tables made by create_all before migrations existed).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_scores",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=False),
        sa.Column("expected_clv", sa.Float(), nullable=False),
        sa.Column("clv_if_retained", sa.Float(), nullable=False),
        sa.Column("value_at_risk", sa.Float(), nullable=False),
        sa.Column("value_tier", sa.String(length=32), nullable=False),
        sa.Column("rfm_segment", sa.String(length=32), nullable=False),
        sa.Column("latency_since", sa.Date(), nullable=True),
        sa.Column("alive_drop_since", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "idea_supporters",
        sa.Column("idea_key", sa.String(length=64), nullable=False),
        sa.Column("supporter_id", sa.String(length=64), nullable=False),
        sa.Column("supporter_kind", sa.String(length=16), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("conversation_id", sa.String(length=96), nullable=False),
        sa.PrimaryKeyConstraint("idea_key", "supporter_id"),
    )
    op.create_table(
        "ideation_items",
        sa.Column("idea_key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("n_mentions", sa.Integer(), nullable=False),
        sa.Column("n_supporters", sa.Integer(), nullable=False),
        sa.Column("customer_supporters", sa.Integer(), nullable=False),
        sa.Column("stakeholder_supporters", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("priority_score", sa.Float(), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=True),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_activity", sa.DateTime(), nullable=False),
        sa.Column("pipeline_state", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("closed_reason", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=32), server_default="new", nullable=False),
        sa.Column("assignee", sa.String(length=128), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("idea_key"),
    )
    op.create_table(
        "identity_overrides",
        sa.Column("identity_key", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("identity_key", "customer_id"),
    )
    op.create_table(
        "model_runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("bgnbd_r", sa.Float(), nullable=True),
        sa.Column("bgnbd_alpha", sa.Float(), nullable=True),
        sa.Column("bgnbd_a", sa.Float(), nullable=True),
        sa.Column("bgnbd_b", sa.Float(), nullable=True),
        sa.Column("bgnbd_log_likelihood", sa.Float(), nullable=True),
        sa.Column("bgnbd_method", sa.String(length=16), nullable=False),
        sa.Column("gamma_gamma_p", sa.Float(), nullable=True),
        sa.Column("gamma_gamma_q", sa.Float(), nullable=True),
        sa.Column("gamma_gamma_v", sa.Float(), nullable=True),
        sa.Column("gamma_gamma_log_likelihood", sa.Float(), nullable=True),
        sa.Column("gamma_gamma_method", sa.String(length=16), nullable=False),
        sa.Column("n_customers", sa.Integer(), nullable=False),
        sa.Column("n_repeat_customers", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_table(
        "publish_runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("row_key", sa.String(length=255), nullable=False),
        sa.Column("row_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("failed_expectations", sa.Text(), nullable=False),
        sa.Column("raw_row", sa.Text(), nullable=False),
        sa.Column("first_run_id", sa.String(length=64), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_run_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="quarantined", nullable=False),
        sa.Column("fixed_row", sa.Text(), nullable=True),
        sa.Column("fixed_at", sa.DateTime(), nullable=True),
        sa.Column("released_run_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset", "row_fingerprint", name="uq_quarantine_row"),
    )
    op.create_table(
        "retention_cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("value_tier", sa.String(length=32), nullable=False),
        sa.Column("clv", sa.Float(), nullable=False),
        sa.Column("value_at_risk", sa.Float(), nullable=False),
        sa.Column("priority_score", sa.Float(), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=True),
        sa.Column("reason_codes", sa.String(length=255), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("playbook", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("pipeline_state", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("closed_reason", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=32), server_default="open", nullable=False),
        sa.Column("assignee", sa.String(length=128), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index(
        op.f("ix_retention_cases_customer_id"), "retention_cases", ["customer_id"], unique=False
    )
    op.create_table(
        "source_rows",
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("row_key", sa.String(length=255), nullable=False),
        sa.Column("source_name", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("dataset", "row_key"),
    )
    op.create_table(
        "source_state",
        sa.Column("source_name", sa.String(length=128), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("watermark", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source_name"),
    )


def downgrade() -> None:
    op.drop_table("source_state")
    op.drop_table("source_rows")
    op.drop_table("retention_cases")
    op.drop_table("quarantine")
    op.drop_table("publish_runs")
    op.drop_table("model_runs")
    op.drop_table("identity_overrides")
    op.drop_table("ideation_items")
    op.drop_table("idea_supporters")
    op.drop_table("customer_scores")
