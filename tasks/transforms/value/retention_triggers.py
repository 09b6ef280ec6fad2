"""Just-in-time retention triggers: one row per customer, one boolean + numbers per trigger."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from patronage.config import TriggerConfig

PREVIOUS_COLUMNS = ["customer_id", "p_alive", "latency_since", "alive_drop_since"]


def detect_retention_triggers(
    customers: pd.DataFrame,
    config: TriggerConfig,
    previous: pd.DataFrame | None = None,
    as_of: date | None = None,
) -> pd.DataFrame:
    """Fire triggers on each customer's deviation from their own expected behaviour.

    A trigger that was already active in the previous run keeps its ``*_since`` date and does not
    fire again; only a trigger that becomes active now counts in ``newly_fired``.

    Args:
        customers: One row per customer with ``days_since_last``, ``typical_interval_days``,
            ``frequency`` and ``p_alive``.
        config: Thresholds.
        previous: The previous run's stored scores (``customer_id``, ``p_alive``,
            ``latency_since``, ``alive_drop_since``); None on a first run.
        as_of: Run date, stamped on triggers that fire now.

    Returns:
        ``customer_id``, ``latency_ratio`` (days since last purchase ÷ own typical interval),
        ``latency_breach`` (ratio above ``latency_multiple`` with enough history),
        ``lapsed`` (ratio above ``lapsed_multiple``: past the point of just-in-time),
        ``p_alive_change`` (since the previous run), ``alive_drop`` (P(alive) below
        ``alive_threshold`` or down more than ``alive_drop_points``), ``latency_since``,
        ``alive_drop_since`` and ``newly_fired`` (comma-separated triggers new this run).
    """
    enough_history = customers["frequency"] >= config.min_repeat_purchases
    ratio = (customers["days_since_last"] / customers["typical_interval_days"]).where(
        enough_history
    )
    prev = previous if previous is not None else pd.DataFrame(columns=PREVIOUS_COLUMNS)
    prev = prev.set_index("customer_id").reindex(customers["customer_id"])
    change = customers["p_alive"].to_numpy() - prev["p_alive"].astype("float64").to_numpy()
    out = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "latency_ratio": ratio.to_numpy(),
            "latency_breach": (ratio > config.latency_multiple)
            .fillna(False)
            .astype(bool)
            .to_numpy(),
            "lapsed": (ratio > config.lapsed_multiple).fillna(False).astype(bool).to_numpy(),
            "p_alive_change": change,
        }
    )
    dropped = pd.Series(change < -config.alive_drop_points)
    out["alive_drop"] = enough_history.to_numpy() & (
        (customers["p_alive"].to_numpy() < config.alive_threshold) | dropped.to_numpy()
    )
    stamp = pd.Timestamp(as_of) if as_of else pd.NaT
    new: dict[str, np.ndarray] = {}
    for trigger, since_col in (
        ("latency_breach", "latency_since"),
        ("alive_drop", "alive_drop_since"),
    ):
        before = pd.Series(pd.to_datetime(prev[since_col]).to_numpy())
        was_active = before.notna().to_numpy()
        out[since_col] = before.where(was_active, stamp).where(out[trigger], pd.NaT)
        new[trigger] = out[trigger].to_numpy() & ~was_active
    latency, alive = new["latency_breach"], new["alive_drop"]
    out["newly_fired"] = (
        np.where(latency, "latency_breach", "")
        + np.where(latency & alive, ",", "")
        + np.where(alive, "alive_drop", "")
    )
    return out
