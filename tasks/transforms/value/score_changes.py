"""Which customers' scores moved since the stored ones: the rows a score history keeps."""

from __future__ import annotations

import pandas as pd

HISTORY_COLUMNS = ["customer_id", "p_alive", "expected_clv", "value_at_risk", "value_tier"]
# Differences below these are refits' noise, not a change a person would see on the chart.
ROUNDING = {"p_alive": 3, "expected_clv": 2, "value_at_risk": 2}


def changed_scores(scores: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Tonight's scores of customers who are new or whose rounded scores or tier changed.

    Args:
        scores: Tonight's scores (``HISTORY_COLUMNS`` at least).
        previous: The stored latest scores (same columns), empty before the first run.

    Returns:
        ``HISTORY_COLUMNS`` of the customers to add to the history, rounded, by customer id.
    """
    tonight = scores[HISTORY_COLUMNS].round(ROUNDING)
    before = previous[HISTORY_COLUMNS].round(ROUNDING).set_index("customer_id")
    joined = tonight.join(before, on="customer_id", rsuffix="_before")
    moved = joined["p_alive_before"].isna()
    for column in HISTORY_COLUMNS[1:]:
        moved |= joined[column] != joined[f"{column}_before"]
    return tonight[moved.to_numpy()].sort_values("customer_id").reset_index(drop=True)
