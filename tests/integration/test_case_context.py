"""What the nightly keeps for the case and review pages: a score history that grows only with
changes, the latest purchases of customers with a case, and near-miss identity links."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from patronage.flows.nightly import nightly
from patronage.resources.database import make_engine
from patronage.schemas.tables import (
    case_purchases,
    customer_scores,
    identity_candidates,
    identity_links,
    retention_cases,
    score_history,
)

from factories import nightly_params

AS_OF = date(2026, 10, 31)


def _count(conn, table, *where) -> int:
    return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


@pytest.mark.slow
def test_nightly_keeps_score_history_purchases_and_identity_candidates(
    sample_company, database_url
):
    params = nightly_params(
        data_location=str(sample_company[0]), database_url=database_url, as_of=AS_OF
    )
    nightly(params)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        customers = _count(conn, customer_scores)
        assert _count(conn, score_history) == customers  # the first night: everyone
        with_case = set(conn.execute(select(retention_cases.c.customer_id)).scalars())
        bought = set(conn.execute(select(case_purchases.c.customer_id).distinct()).scalars())
        assert bought and bought <= with_case
        per_customer = conn.execute(
            select(func.count()).select_from(case_purchases).group_by(case_purchases.c.customer_id)
        ).all()
        assert max(n for (n,) in per_customer) <= 24
        candidates = conn.execute(
            select(identity_candidates.c.identity_key, identity_candidates.c.match_probability)
        ).all()
        linked = set(conn.execute(select(identity_links.c.identity_key)).scalars())
        compared = conn.execute(select(identity_candidates.c.compared)).scalars().all()
        assert all(
            json.loads(c)["author_name"] and json.loads(c)["customer_name"] for c in compared
        )
        assert compared and not any("NaN" in c for c in compared)  # a missing place is null
        assert all(0.8 <= p < 0.98 for _, p in candidates)
        assert not {k for k, _ in candidates} & linked

    nightly(params)  # the same night again: nothing changed, nothing added
    with engine.connect() as conn:
        assert _count(conn, score_history) == customers
    nightly(params.model_copy(update={"as_of": AS_OF + timedelta(days=14)}))
    with engine.connect() as conn:
        later = _count(conn, score_history, score_history.c.as_of == AS_OF + timedelta(days=14))
        # Two weeks on, P(alive) of the quiet customers moves: some rows, not necessarily all.
        assert 0 < later <= customers
    engine.dispose()


def test_the_last_history_point_is_each_customers_latest_row(database_url):
    from patronage.resources.database import ensure_schema
    from patronage.tasks.io.case_context import last_history_points

    day = date(2026, 10, 1)
    rows = [  # (customer, days after ``day``, p_alive)
        ("C1", 0, 0.9), ("C1", 7, 0.8), ("C1", 3, 0.7),
        ("C2", 5, 0.5),
        ("C3", 9, 0.3), ("C3", 1, 0.2),
    ]  # fmt: skip
    engine = make_engine(database_url)
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            score_history.insert(),
            [
                {"customer_id": c, "as_of": day + timedelta(days=d), "run_id": f"r{d}",
                 "p_alive": p, "expected_clv": 10.0 * d, "value_at_risk": 1.0, "value_tier": "mid"}
                for c, d, p in rows
            ],
        )  # fmt: skip
        latest = last_history_points(conn).sort_values("customer_id").reset_index(drop=True)
    engine.dispose()
    assert latest["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert latest["p_alive"].tolist() == [0.8, 0.5, 0.3]
    assert latest["expected_clv"].tolist() == [70.0, 50.0, 90.0]
