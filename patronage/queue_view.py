"""Read the published queues: the small Python API behind ``patronage queues``."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select

from schemas.tables import ideation_items, retention_cases


def open_retention_cases(engine: Engine, limit: int | None = None) -> pd.DataFrame:
    """Open retention cases, highest priority first."""
    t = retention_cases
    query = (select(t.c.priority_rank, t.c.case_id, t.c.customer_id, t.c.value_tier,
                    t.c.priority_score, t.c.value_at_risk, t.c.reason_codes, t.c.owner,
                    t.c.due_date, t.c.status)
             .where(t.c.pipeline_state == "open")
             .order_by(t.c.priority_score.desc(), t.c.case_id).limit(limit))
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def open_ideas(engine: Engine, limit: int | None = None) -> pd.DataFrame:
    """Open ideas, highest priority first."""
    t = ideation_items
    query = (select(t.c.priority_rank, t.c.idea_key, t.c.title, t.c.n_supporters,
                    t.c.customer_supporters, t.c.stakeholder_supporters, t.c.votes,
                    t.c.priority_score, t.c.status)
             .where(t.c.pipeline_state == "open")
             .order_by(t.c.priority_score.desc(), t.c.idea_key).limit(limit))
    with engine.connect() as conn:
        return pd.read_sql(query, conn)
