"""Customer value: one row per customer with purchases: P(alive), expected CLV, value at risk."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from patronage.config import ValueModelConfig
from patronage.tasks.transforms.value.bgnbd import (
    BgNbdParams,
    expected_purchases_if_alive,
    probability_alive,
    probability_no_purchase,
)
from patronage.tasks.transforms.value.gamma_gamma import (
    GammaGammaParams,
    expected_average_order_value,
)

PERIOD_DAYS = 30


def _per_pair(
    bgnbd: BgNbdParams, frequency: np.ndarray, T: np.ndarray
) -> Callable[[float], np.ndarray]:
    """``t -> expected_purchases_if_alive(bgnbd, t, frequency, T)``, worked out once per
    distinct (frequency, T) pair: customers share them (a million customers hold a few tens of
    thousands), and the hypergeometric function per customer was most of scoring's time."""
    pairs = pd.DataFrame({"x": frequency, "T": T})
    inverse = pairs.groupby(["x", "T"], sort=False, dropna=False).ngroup().to_numpy()
    first = ~pairs.duplicated().to_numpy()  # in the order the groups are numbered
    x, age = frequency[first], T[first]
    return lambda t: expected_purchases_if_alive(bgnbd, t, x, age)[inverse]


def clv_if_retained(
    bgnbd: BgNbdParams,
    expected_aov: np.ndarray,
    frequency: np.ndarray,
    T: np.ndarray,
    horizon_days: int,
    annual_discount_rate: float,
) -> np.ndarray:
    """Discounted value over the horizon for a customer who stays (30-day periods)."""
    monthly_rate = (1 + annual_discount_rate) ** (PERIOD_DAYS / 365) - 1
    value = np.zeros(len(frequency))
    previous = np.zeros(len(frequency))
    if_alive = _per_pair(bgnbd, np.asarray(frequency, float), np.asarray(T, float))
    for period in range(1, int(np.ceil(horizon_days / PERIOD_DAYS)) + 1):
        cumulative = if_alive(min(period * PERIOD_DAYS, horizon_days))
        value += (cumulative - previous) * expected_aov / (1 + monthly_rate) ** period
        previous = cumulative
    return value


def score_customer_value(
    summary: pd.DataFrame,
    bgnbd: BgNbdParams,
    gamma_gamma: GammaGammaParams,
    config: ValueModelConfig,
) -> pd.DataFrame:
    """Apply fitted models to each customer. Works per partition of customers: no global state.

    ``expected_clv`` is what the customer is expected to bring (P(alive) included);
    ``value_at_risk`` = CLV if retained × (1 − P(alive)): what is lost if they are leaving.
    Over the next ``risk_horizon_days``: ``p_stop`` = P(no purchase in it),
    ``value_if_retained_horizon`` = what the customer brings in it if still alive, and
    ``expected_value_lost`` = their product — the retention queue's measure of value at risk.
    """
    x = summary["frequency"].to_numpy(float)
    t_x = summary["recency"].to_numpy(float)
    T = summary["T"].to_numpy(float)
    p_alive = probability_alive(bgnbd, x, t_x, T)
    aov = expected_average_order_value(gamma_gamma, x, summary["monetary_value"].to_numpy(float))
    retained = clv_if_retained(bgnbd, aov, x, T, config.horizon_days, config.annual_discount_rate)
    horizon = config.risk_horizon_days
    p_stop = probability_no_purchase(bgnbd, horizon, x, t_x, T)
    if_alive = _per_pair(bgnbd, x, T)
    purchases_horizon = if_alive(horizon)
    retained_horizon = purchases_horizon * aov
    return pd.DataFrame(
        {
            "customer_id": summary["customer_id"].to_numpy(),
            "p_alive": p_alive,
            "expected_purchases_90d": p_alive * if_alive(90),
            "expected_aov": aov,
            "clv_if_retained": retained,
            "expected_clv": p_alive * retained,
            "value_at_risk": retained * (1 - p_alive),
            "p_stop": p_stop,
            "expected_purchases_horizon": p_alive * purchases_horizon,
            "value_if_retained_horizon": retained_horizon,
            "expected_value_lost": retained_horizon * p_stop,
        }
    )


def assign_value_tiers(scores: pd.DataFrame, config: ValueModelConfig) -> pd.Series:
    """Tier each customer: high_value, high_potential, core or low.

    High-value is the top ``high_value_share`` by expected CLV. High-potential is the top
    ``high_potential_share`` by CLV if retained among the rest whose past revenue is below the
    median. Core is the next ``core_share`` by expected CLV. Ties break by ``customer_id``.
    """
    ordered = scores.sort_values("customer_id", kind="stable")
    n = len(ordered)
    tier = pd.Series("low", index=ordered.index, dtype="object")
    rank = ordered["expected_clv"].rank(ascending=False, method="first")
    tier[rank <= np.ceil(config.high_value_share * n)] = "high_value"
    low_past = ordered["total_revenue"] < ordered["total_revenue"].median()
    pool = ordered[(tier == "low") & low_past]
    potential_rank = pool["clv_if_retained"].rank(ascending=False, method="first")
    tier[potential_rank[potential_rank <= np.ceil(config.high_potential_share * n)].index] = (
        "high_potential"
    )
    rest = ordered[tier == "low"]
    core_rank = rest["expected_clv"].rank(ascending=False, method="first")
    tier[core_rank[core_rank <= np.ceil(config.core_share * n)].index] = "core"
    return tier.reindex(scores.index)
