"""Partitions of customers: every row of a customer in one part, rows in their order."""

from __future__ import annotations

import pandas as pd
import pytest

from patronage.tasks.transforms.customer_partitions import split_by_customer


def _orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(["c1", "c2", "c1", "c3", None, "c2", "c4", "c1"], dtype="str"),
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        }
    )


def test_one_partition_is_the_frame_itself():
    orders = _orders()
    assert split_by_customer(orders, 1)[0] is orders


@pytest.mark.parametrize("partitions", [2, 3, 5])
def test_each_customer_falls_in_one_partition_and_no_row_is_lost(partitions):
    orders = _orders()
    parts = split_by_customer(orders, partitions)
    assert len(parts) == partitions
    where = {}
    for number, part in enumerate(parts):
        assert part["customer_id"].dtype == orders["customer_id"].dtype
        # rows keep their order within a part
        assert part["amount"].is_monotonic_increasing
        for customer in part["customer_id"].dropna():
            assert where.setdefault(customer, number) == number
    together = pd.concat(parts).sort_values("amount", ignore_index=True)
    pd.testing.assert_frame_equal(together, orders)
    # the row with no customer lands in the first part
    assert parts[0]["customer_id"].isna().sum() == 1


def test_the_same_customer_falls_in_the_same_partition_in_every_dataset():
    orders = _orders()
    scores = pd.DataFrame({"customer_id": ["c4", "c3", "c2", "c1"], "p_alive": [0.1] * 4})
    by_orders = {
        c: n for n, p in enumerate(split_by_customer(orders, 3)) for c in p["customer_id"].dropna()
    }
    by_scores = {c: n for n, p in enumerate(split_by_customer(scores, 3)) for c in p["customer_id"]}
    assert by_orders == by_scores
