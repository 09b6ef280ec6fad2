"""RFM scores: one row per customer with purchases, quintile scores 1-5 and a named segment."""

from __future__ import annotations

import numpy as np
import pandas as pd

# (recency score range, frequency+monetary score range) → segment, first match wins.
SEGMENTS: list[tuple[str, tuple[int, int], tuple[float, float]]] = [
    ("champions", (4, 5), (4.0, 5.0)),
    ("loyal", (3, 5), (3.0, 5.0)),
    ("cant_lose", (1, 2), (4.0, 5.0)),
    ("at_risk", (1, 2), (2.5, 5.0)),
    ("promising", (4, 5), (1.0, 3.0)),
    ("needs_attention", (3, 3), (1.0, 3.0)),
    ("hibernating", (1, 2), (1.0, 2.5)),
]


def _quintile(values: pd.Series, ascending: bool) -> pd.Series:
    """Quintile 1-5 by rank; ties broken by the frame's order (sort by id first) so it is stable."""
    ranks = values.rank(method="first", ascending=ascending)
    return np.ceil(ranks * 5 / len(values)).astype("int64").clip(1, 5)


def score_rfm(summary: pd.DataFrame) -> pd.DataFrame:
    """Score recency, frequency and monetary value in quintiles.

    Args:
        summary: Output of ``summarize_transactions``.

    Returns:
        ``customer_id``, ``r_score``, ``f_score``, ``m_score``, ``rfm_segment``; 5 is best.
        Ties are broken by ``customer_id`` so the same input always gives the same scores.
    """
    ordered = summary.sort_values("customer_id", kind="stable")
    out = pd.DataFrame({"customer_id": ordered["customer_id"].to_numpy()})
    if len(ordered) == 0:
        return out.assign(r_score=[], f_score=[], m_score=[], rfm_segment=[])
    out["r_score"] = _quintile(ordered["days_since_last"], ascending=False).to_numpy()
    out["f_score"] = _quintile(ordered["n_orders"], ascending=True).to_numpy()
    out["m_score"] = _quintile(ordered["total_revenue"], ascending=True).to_numpy()
    fm = (out["f_score"] + out["m_score"]) / 2
    segment = pd.Series("other", index=out.index)
    for name, (r_lo, r_hi), (fm_lo, fm_hi) in reversed(SEGMENTS):
        hit = out["r_score"].between(r_lo, r_hi) & fm.between(fm_lo, fm_hi)
        segment[hit] = name
    out["rfm_segment"] = segment
    return out
