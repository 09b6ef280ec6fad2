"""Fit the retention policy to a company's own history (``patronage backtest --tune``).

Evidence factors are fitted, not guessed: a logistic regression of "stopped buying in the
horizon" on each conversation signal, with the value model's own log-odds of P(stop) as an
offset, so a factor says how much a signal adds to what the purchase history already tells.
The remaining weights (urgency scale, lapsed factor, queue entry share) are chosen on a small
grid to maximise the queue's value capture on the in-sample cut-offs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from patronage.config import RetentionPolicy
from patronage.tasks.transforms.backtest.backtest_metrics import value_capture
from patronage.tasks.transforms.queues.retention_queue import CONVERSATION_REASONS, rank_customers

# Ridge penalty on the evidence log-factors: a signal seen on few customers stays near 1×.
RIDGE = 1.0
GRID = {
    "urgency_scale": (0.0, 0.1, 0.3),
    "lapsed_factor": (0.25, 0.5, 1.0),
    "entry_share": (0.1, 0.2, 0.3),
}
# The capture points the tuning maximises (their mean).
TUNED_AT = ("50", "100", "10%")


def fit_evidence_odds(
    p_stop: np.ndarray, flags: pd.DataFrame, stopped: np.ndarray
) -> dict[str, float]:
    """Odds multiplier per signal column of ``flags``, fitted with ``logit(p_stop)`` as offset.

    Args:
        p_stop: The value model's P(no purchase in the horizon), one per customer.
        flags: One boolean column per signal, same rows.
        stopped: What happened (no purchase in the horizon).
    """
    from scipy.optimize import minimize

    p = np.clip(p_stop, 1e-6, 1 - 1e-6)
    offset = np.log(p / (1 - p))
    x = flags.to_numpy(float)
    y = stopped.astype(float)

    def loss(beta: np.ndarray) -> tuple[float, np.ndarray]:
        z = offset + x @ beta
        nll = np.sum(np.logaddexp(0, z) - y * z) + RIDGE * beta @ beta / 2
        grad = x.T @ (1 / (1 + np.exp(-z)) - y) + RIDGE * beta
        return float(nll), grad

    beta = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B").x
    return {
        col: round(float(np.exp(np.clip(b, -3, 3))), 3)
        for col, b in zip(flags.columns, beta, strict=True)
    }


def queue_capture(frames: Sequence, policy: RetentionPolicy) -> float:
    """Mean of the queue's capture at ``TUNED_AT`` over ``frames`` (``CutoffFrames``)."""
    from patronage.tasks.transforms.backtest.backtest_metrics import list_scores

    shares = []
    for f in frames:
        ranked = rank_customers(f.scores, f.evidence, policy)
        score = list_scores(ranked, f.scores, f.outcomes)["queue"].to_numpy(float)
        capture = value_capture(f.outcomes["value_lost"].to_numpy(float), score)
        shares.append(np.mean([capture[k] for k in TUNED_AT]))
    return round(float(np.mean(shares)), 4)


def tune_policy(frames: Sequence, base: RetentionPolicy) -> tuple[RetentionPolicy, float]:
    """The policy that captures most value on ``frames``, and that capture (in-sample).

    Args:
        frames: ``CutoffFrames`` of the in-sample cut-offs.
        base: Policy whose other fields are kept.
    """
    stacked = []
    for f in frames:
        flags = (
            f.outcomes[["customer_id"]]
            .merge(f.evidence[["customer_id", *CONVERSATION_REASONS]], on="customer_id", how="left")
            .drop(columns="customer_id")
            .astype("boolean")
            .fillna(False)
            .astype(bool)
        )
        p_stop = f.outcomes[["customer_id"]].merge(f.scores, on="customer_id")["p_stop"]
        stacked.append((p_stop.to_numpy(float), flags, f.outcomes["stopped"].to_numpy()))
    odds = fit_evidence_odds(
        np.concatenate([s[0] for s in stacked]),
        pd.concat([s[1] for s in stacked], ignore_index=True),
        np.concatenate([s[2] for s in stacked]),
    )
    best, best_capture = base, -1.0
    for values in itertools.product(*GRID.values()):
        candidate = base.model_copy(
            update={"evidence_odds": odds, **dict(zip(GRID, values, strict=True))}
        )
        capture = queue_capture(frames, candidate)
        if capture > best_capture:
            best, best_capture = candidate, capture
    return best, best_capture
