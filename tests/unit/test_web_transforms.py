"""Pure pieces behind the web page and the case context, on a few rows with exact answers."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from patronage.tasks.transforms.queues.case_purchases import latest_purchases
from patronage.tasks.transforms.value.score_changes import changed_scores
from patronage.web.auth import safe_next
from patronage.web.config import WebConfig
from patronage.web.views.case_chart import case_chart
from patronage.web.views.cases import sla_state


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (date(2026, 12, 1), ("sla-overdue", "overdue by 1 day")),
        (date(2026, 11, 28), ("sla-overdue", "overdue by 4 days")),
        (date(2026, 12, 2), ("sla-today", "due today")),
        (date(2026, 12, 3), ("sla-due", "due in 1 day")),
        (date(2026, 12, 9), ("sla-due", "due in 7 days")),
        (None, ("sla-none", "no due date")),
    ],
)
def test_sla_state(due, expected):
    assert sla_state(due, date(2026, 12, 2)) == expected


def test_changed_scores_keeps_new_customers_and_moves_from_the_last_point():
    last_points = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "E", "F"],
            "p_alive": [0.5, 0.8, 0.9, 0.6, 0.7],
            "expected_clv": [100.0, 200.0, 300.0, 400.0, 0.0],
            "value_at_risk": [10.0, 20.0, 30.0, 40.0, 0.0],
            "value_tier": ["gold", "gold", "silver", "gold", "bronze"],
        }
    )
    tonight = pd.DataFrame(
        {
            "customer_id": ["D", "C", "B", "A", "E", "F"],
            # B drifted 0.009 since its last point (not yet a step), A one point exactly.
            "p_alive": [0.3, 0.9, 0.8091, 0.51, 0.6, 0.7],
            # E's value moved 5 % (a step); B's 4.99 % (not); F's from nothing by a cent.
            "expected_clv": [50.0, 300.0, 209.98, 100.0, 420.0, 0.01],
            "value_at_risk": [5.0, 30.0, 20.0, 10.0, 40.0, 0.0],
            "value_tier": ["bronze", "gold", "gold", "gold", "gold", "bronze"],  # C changed tier
            "rfm_segment": ["x", "x", "x", "x", "x", "x"],
        }
    )
    got = changed_scores(tonight, last_points)
    assert got["customer_id"].tolist() == ["A", "C", "D", "E", "F"]
    assert got["p_alive"].tolist() == [0.51, 0.9, 0.3, 0.6, 0.7]
    assert got["expected_clv"].tolist() == [100.0, 300.0, 50.0, 420.0, 0.01]
    assert list(got.columns) == [
        "customer_id", "p_alive", "expected_clv", "value_at_risk", "value_tier",
    ]  # fmt: skip
    empty = last_points.iloc[0:0]
    assert changed_scores(tonight, empty)["customer_id"].tolist() == ["A", "B", "C", "D", "E", "F"]


def test_latest_purchases_keeps_each_case_customers_last_orders_oldest_first():
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3", "o4", "o5"],
            "customer_id": ["A", "A", "A", "B", "C"],
            "ordered_at": pd.to_datetime(
                ["2026-03-01", "2026-01-01", "2026-02-01", "2026-01-05", "2026-01-09"]
            ),
            "amount": [30.0, 10.0, 20.0, 5.0, 9.0],
        }
    )
    got = latest_purchases(orders, ["A", "B"], per_customer=2)
    assert got["order_id"].tolist() == ["o3", "o1", "o4"]
    assert got["amount"].tolist() == [20.0, 30.0, 5.0]


def test_case_chart_places_bars_and_the_alive_line():
    chart = case_chart(
        [
            {"ordered_at": datetime(2026, 1, 1), "amount": 50.0},
            {"ordered_at": datetime(2026, 1, 11), "amount": 100.0},
        ],
        [{"as_of": date(2026, 1, 1), "p_alive": 1.0}, {"as_of": date(2026, 1, 21), "p_alive": 0.5}],
    )
    # 560 × 160 box, 24 padding: x from 24 to 536 over 20 days, bars up to 112 high.
    assert [(b["x"], b["y"], b["height"]) for b in chart["bars"]] == [
        (22.0, 80.0, 56.0),
        (278.0, 24.0, 112.0),
    ]
    assert chart["line"] == "24.0,24.0 536.0,80.0"
    assert (chart["start"], chart["end"]) == ("2026-01-01", "2026-01-21")
    assert case_chart([], []) is None


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/cases/RET-1", "/cases/RET-1"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/\\evil", "/"),
        (None, "/"),
    ],
)
def test_safe_next_stays_on_site(target, expected):
    assert safe_next(target) == expected


def test_trusted_proxies_match_addresses_and_networks():
    config = WebConfig(auth="proxy", trusted_proxies=["10.0.0.0/24", "192.0.2.7"])
    assert config.trusts("10.0.0.9") and config.trusts("192.0.2.7")
    assert not config.trusts("10.0.1.1") and not config.trusts(None)
    assert not config.trusts("not-an-ip")
    with pytest.raises(ValueError, match="trusted proxy 'proxy.local' is not an IP"):
        WebConfig(trusted_proxies=["proxy.local"])


def test_unencoded_partitions_skip_known_and_blank_texts_and_cut_by_hash():
    import numpy as np

    from patronage.tasks.transforms.text.text_signals import (
        remember_vectors,
        text_hash,
        unencoded_partitions,
    )

    model = "test-model-partitions"
    remember_vectors(model, ["known"], np.zeros((1, 3), dtype=np.float32))
    texts = ["b", "known", "a", "  ", None, "c", "a"]
    parts = unencoded_partitions(model, texts, size=2)
    flat = [t for p in parts for t in p]
    assert sorted(flat) == ["a", "b", "c"]  # known, blank, missing and repeated texts left out
    assert [len(p) for p in parts] == [2, 1]
    assert flat == sorted(["a", "b", "c"], key=text_hash)  # the same cut on every run
