"""Just-in-time retention triggers: one row per customer, one boolean + numbers per trigger."""

from __future__ import annotations

import pandas as pd

from patronage.config import TriggerConfig


def detect_retention_triggers(customers: pd.DataFrame, config: TriggerConfig) -> pd.DataFrame:
    """Fire triggers on each customer's deviation from their own expected behaviour.

    Args:
        customers: One row per customer with ``days_since_last``, ``typical_interval_days``,
            ``frequency`` and ``p_alive``.
        config: Thresholds.

    Returns:
        ``customer_id``, ``latency_ratio`` (days since last purchase ÷ own typical interval),
        ``latency_breach`` (ratio above ``latency_multiple`` with enough history),
        ``lapsed`` (ratio above ``lapsed_multiple``: past the point of just-in-time) and
        ``alive_drop`` (P(alive) below ``alive_threshold``).
    """
    enough_history = customers["frequency"] >= config.min_repeat_purchases
    ratio = (customers["days_since_last"] / customers["typical_interval_days"]).where(enough_history)
    return pd.DataFrame({
        "customer_id": customers["customer_id"],
        "latency_ratio": ratio,
        "latency_breach": (ratio > config.latency_multiple).fillna(False).astype(bool),
        "lapsed": (ratio > config.lapsed_multiple).fillna(False).astype(bool),
        "alive_drop": (enough_history & (customers["p_alive"] < config.alive_threshold)).astype(bool),
    })
