from datetime import date

import pandas as pd
import pytest

from patronage.tasks.transforms.value.customer_summary import summarize_transactions


def test_summary_counts_purchase_days_and_ignores_orders_after_cutoff():
    orders = pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "A", "B", "C"],
            "ordered_at": pd.to_datetime(
                [
                    "2026-01-01 09:00",
                    "2026-01-01 17:00",  # same day: one purchase occasion
                    "2026-01-11 10:00",
                    "2026-01-31 10:00",
                    "2026-01-20 08:00",
                    "2026-03-01 00:00",  # after the cut-off
                ]
            ),
            "amount": [10.0, 5.0, 30.0, 50.0, 99.0, 7.0],
        }
    )
    s = summarize_transactions(orders, date(2026, 2, 10)).set_index("customer_id")
    assert list(s.index) == ["A", "B"]
    a, b = s.loc["A"], s.loc["B"]
    assert (a["frequency"], a["recency"], a["T"]) == (2, 30.0, 40.0)
    assert a["monetary_value"] == pytest.approx(40.0)  # repeat days only: (30 + 50) / 2
    assert a["total_revenue"] == pytest.approx(95.0)
    assert a["n_orders"] == 4
    assert a["typical_interval_days"] == pytest.approx(15.0)
    assert a["days_since_last"] == 10.0
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 21.0, 0.0)
    assert pd.isna(b["typical_interval_days"])
