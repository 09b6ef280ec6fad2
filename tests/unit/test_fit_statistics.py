"""The value models' fit as a reduction: counts of disjoint partitions add up to the whole
base's counts, and the fit on them is the fit on all customers at once."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from patronage.tasks.transforms.value.bgnbd import fit_bgnbd, fit_bgnbd_counts, purchase_counts
from patronage.tasks.transforms.value.fit_statistics import (
    combine_fit_statistics,
    fit_statistics,
    fit_value_models,
)
from patronage.tasks.transforms.value.gamma_gamma import fit_gamma_gamma

from factories import TEST_DATA


def _summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
            "frequency": [0, 2, 2, 1, 0, 2],
            "recency": [0.0, 30.0, 30.0, 12.0, 0.0, 45.0],
            "T": [50.0, 60.0, 60.0, 40.0, 50.0, 60.0],
            "monetary_value": [0.0, 20.0, 20.0, 35.5, 0.0, 20.0],
            "total_revenue": [10.0, 60.0, 55.0, 71.0, 8.0, 70.0],
            "n_orders": [1, 3, 3, 2, 1, 3],
        }
    )


def test_counts_hold_each_distinct_tuple_once_with_its_customers():
    stats = fit_statistics(_summary())
    assert stats.purchases.to_dict("list") == {
        "frequency": [0, 1, 2, 2],
        "recency": [0.0, 12.0, 30.0, 45.0],
        "T": [50.0, 40.0, 60.0, 60.0],
        "customers": [2, 1, 2, 1],
    }
    assert stats.spend.to_dict("list") == {
        "frequency": [1, 2],
        "monetary_value": [35.5, 20.0],
        "customers": [1, 3],
    }
    assert (stats.revenue, stats.orders, stats.customers) == (274.0, 13, 6)


def test_partitions_counts_add_up_to_the_whole_bases():
    summary = _summary()
    whole = fit_statistics(summary)
    parts = combine_fit_statistics(
        [fit_statistics(summary.iloc[[0, 2, 4]]), fit_statistics(summary.iloc[[5, 1, 3]])]
    )
    pd.testing.assert_frame_equal(parts.purchases, whole.purchases)
    pd.testing.assert_frame_equal(parts.spend, whole.spend)
    assert (parts.revenue, parts.orders) == (whole.revenue, whole.orders)


def test_combining_nothing_is_an_error():
    with pytest.raises(ValueError, match="no partitions"):
        combine_fit_statistics([])


def test_fit_over_partitions_is_the_fit_over_all_customers_to_the_bit():
    summary = (
        pd.read_csv(TEST_DATA / "cdnow_customers_summary_with_transactions.csv")
        .rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
        .assign(total_revenue=1.0, n_orders=1)
    )
    halves = [summary.iloc[::2], summary.iloc[1::2]]
    whole = fit_value_models(combine_fit_statistics([fit_statistics(summary)]), date(2026, 1, 1))
    split = fit_value_models(
        combine_fit_statistics([fit_statistics(h) for h in halves]), date(2026, 1, 1)
    )
    assert split == whole
    assert (whole.bgnbd.n_customers, whole.gamma_gamma.n_customers) == (2357, 946)


def test_counted_fit_equals_the_fit_on_one_row_per_customer():
    """Weights are customers: a tuple counted three times weighs as three rows of it."""
    summary = pd.read_csv(TEST_DATA / "cdnow_customers_summary.csv")
    counted = fit_bgnbd_counts(purchase_counts(summary))
    ones = fit_bgnbd_counts(summary.assign(customers=1))
    for field in ("r", "alpha", "a", "b", "log_likelihood"):
        assert getattr(counted, field) == pytest.approx(getattr(ones, field), rel=1e-9)
    assert counted == fit_bgnbd(summary)


def test_gamma_gamma_falls_back_on_revenue_over_orders_with_under_three_repeaters():
    fit = fit_gamma_gamma(_summary().iloc[[0, 3, 4]])
    assert (fit.method, fit.n_customers) == ("heuristic", 1)
    assert fit.v == pytest.approx(2.0 * 89.0 / 4)
    assert np.isnan(fit.log_likelihood)
