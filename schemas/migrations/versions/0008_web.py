"""The web page: users, teams, sessions, failed sign-ins and the access log; a score history,
case purchases and identity candidates for the case and review pages; idea momentum and
mention excerpts for the ideas page.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ideation_items") as batch:
        batch.add_column(sa.Column("momentum", sa.Float(), nullable=True))
    op.create_index(
        "ix_retention_cases_priority",
        "retention_cases",
        [sa.text("priority_score DESC"), "case_id"],
    )
    op.create_index(
        "ix_ideation_items_priority", "ideation_items", [sa.text("priority_score DESC"), "idea_key"]
    )
    with op.batch_alter_table("idea_supporters") as batch:
        batch.add_column(sa.Column("excerpt", sa.Text(), nullable=True))
    op.create_table(
        "score_history",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=False),
        sa.Column("expected_clv", sa.Float(), nullable=False),
        sa.Column("value_at_risk", sa.Float(), nullable=False),
        sa.Column("value_tier", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "as_of"),
    )
    op.create_table(
        "case_purchases",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("ordered_at", sa.DateTime(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "order_id"),
    )
    op.create_table(
        "identity_candidates",
        sa.Column("identity_key", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("compared", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("identity_key"),
    )
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("disabled", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "user_teams",
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("team", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("username", "team"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_web_sessions_username", "web_sessions", ["username"])
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_attempts_username", "sign_in_attempts", ["username"])
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_access_log_customer_id", "access_log", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_access_log_customer_id", table_name="access_log")
    op.drop_table("access_log")
    op.drop_index("ix_sign_in_attempts_username", table_name="sign_in_attempts")
    op.drop_table("sign_in_attempts")
    op.drop_index("ix_web_sessions_username", table_name="web_sessions")
    op.drop_table("web_sessions")
    for table in ("user_teams", "users", "identity_candidates", "case_purchases", "score_history"):
        op.drop_table(table)
    with op.batch_alter_table("idea_supporters") as batch:
        batch.drop_column("excerpt")
    op.drop_index("ix_ideation_items_priority", table_name="ideation_items")
    op.drop_index("ix_retention_cases_priority", table_name="retention_cases")
    with op.batch_alter_table("ideation_items") as batch:
        batch.drop_column("momentum")
