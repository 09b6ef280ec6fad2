"""What the value models' fits read from the customers, as counts that add up over partitions.

Each customer's BG/NBD likelihood term depends on their (frequency, recency, T) alone, and
their Gamma-Gamma term on (frequency, monetary value): the fits need how many customers hold
each distinct tuple, and nothing else. Counts of disjoint partitions of customers add up, so a
fit over a partitioned customer base is a reduction: each partition counts its own customers,
the counts are summed, one fit runs on the sum. Summed counts equal the whole base's counts,
so the fit equals the fit on all customers at once, to the bit.

Grain: ``purchases`` one row per distinct (``frequency``, ``recency``, ``T``); ``spend`` one
row per distinct (``frequency``, ``monetary_value``) among repeat customers with spend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from patronage.tasks.transforms.value.bgnbd import fit_bgnbd_counts, purchase_counts
from patronage.tasks.transforms.value.gamma_gamma import (
    fit_gamma_gamma_counts,
    revenue_and_orders,
    spend_counts,
)
from patronage.tasks.transforms.value.value_refit import StoredFit

_PURCHASE_KEYS = ["frequency", "recency", "T"]
_SPEND_KEYS = ["frequency", "monetary_value"]


@dataclass(frozen=True, repr=False)
class FitStatistics:
    """Counts of a set of customers that the value models' fits need.

    Attributes:
        purchases: ``purchase_counts`` (BG/NBD).
        spend: ``spend_counts`` (Gamma-Gamma).
        revenue: Revenue of all the customers (the Gamma-Gamma fallback's mean).
        orders: Orders of all the customers.
    """

    purchases: pd.DataFrame
    spend: pd.DataFrame
    revenue: float
    orders: int

    @property
    def customers(self) -> int:
        """Customers with purchases the counts cover."""
        return int(self.purchases["customers"].sum())

    def __repr__(self) -> str:
        return f"FitStatistics({self.customers} customers, {len(self.purchases)} distinct)"


def fit_statistics(summary: pd.DataFrame) -> FitStatistics:
    """Count one partition's customers (``summarize_transactions`` output)."""
    return FitStatistics(
        purchase_counts(summary), spend_counts(summary), *revenue_and_orders(summary)
    )


def _add(frames: Sequence[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    return (
        pd.concat(frames, ignore_index=True)
        .groupby(keys, sort=True, dropna=False)["customers"]
        .sum()
        .reset_index()
    )


def combine_fit_statistics(parts: Sequence[FitStatistics]) -> FitStatistics:
    """Sum the counts of disjoint partitions of customers: the whole base's counts.

    Raises:
        ValueError: No partitions.
    """
    if not parts:
        raise ValueError("combine_fit_statistics: no partitions to combine")
    return FitStatistics(
        _add([p.purchases for p in parts], _PURCHASE_KEYS),
        _add([p.spend for p in parts], _SPEND_KEYS),
        sum(p.revenue for p in parts),
        sum(p.orders for p in parts),
    )


def fit_value_models(statistics: FitStatistics, as_of: date) -> StoredFit:
    """Fit BG/NBD and Gamma-Gamma on the counts; the fit is dated ``as_of``."""
    return StoredFit(
        fit_bgnbd_counts(statistics.purchases),
        fit_gamma_gamma_counts(statistics.spend, statistics.revenue, statistics.orders),
        as_of,
    )
