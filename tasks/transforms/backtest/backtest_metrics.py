"""How well a ranking of customers foresaw who stopped buying, and how much value left with them.

Grain: one row per customer who had bought by the cut-off (``outcomes``), judged over the
horizon after it. Every list (the queue's priority and the baselines) ranks the same customers.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

# Top-k sizes of the value-capture table: absolute counts and shares of all customers.
CAPTURE_AT: tuple[str, ...] = ("50", "100", "1%", "5%", "10%", "20%")
# A customer's spend rate is measured over at least this many days, so that someone who bought
# once last week does not count as spending their whole order every week.
MIN_RATE_DAYS = 30.0


def customer_outcomes(
    summary: pd.DataFrame, orders: pd.DataFrame, as_of: date, horizon_days: int
) -> pd.DataFrame:
    """What each customer did in the horizon after ``as_of``.

    Args:
        summary: ``summarize_transactions`` at ``as_of`` (``customer_id``, ``T``,
            ``total_revenue``, ``frequency``).
        orders: All staged orders, including those after ``as_of``.
        as_of: The cut-off.
        horizon_days: Days judged after it.

    Returns:
        ``customer_id``, ``repeat_buyer`` (a repeat purchase by the cut-off), ``stopped`` (no
        order in the horizon), ``purchases`` (purchase days in it) and ``value_lost``: for a
        customer who stopped, what they spent per day before the cut-off (over at least 30 days)
        times the horizon — the value that left; 0 for one who kept buying.
    """
    start = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    end = start + pd.Timedelta(days=horizon_days)
    after = orders[(orders["ordered_at"] >= start) & (orders["ordered_at"] < end)]
    days = after.assign(day=after["ordered_at"].dt.floor("D")).drop_duplicates(
        ["customer_id", "day"]
    )
    purchases = days.groupby("customer_id").size()
    out = pd.DataFrame({"customer_id": summary["customer_id"].to_numpy()})
    out["repeat_buyer"] = summary["frequency"].to_numpy() > 0
    out["purchases"] = out["customer_id"].map(purchases).fillna(0).astype("int64")
    out["stopped"] = out["purchases"] == 0
    rate = summary["total_revenue"].to_numpy(float) / np.maximum(
        summary["T"].to_numpy(float), MIN_RATE_DAYS
    )
    out["value_lost"] = np.where(out["stopped"], rate * horizon_days, 0.0)
    return out


def top_k(label: str, n: int) -> int:
    """Customers in a top-``label`` list of ``n`` customers (``"50"`` or ``"5%"``)."""
    if label.endswith("%"):
        return max(1, int(round(n * float(label[:-1]) / 100)))
    return min(int(label), n)


def value_capture(value_lost: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Share of all value lost held by the ``k`` customers ranked highest by ``score``.

    Ties are broken by position (the frame's order, by customer id), the same for every list.
    """
    total = float(value_lost.sum())
    order = np.argsort(-score, kind="stable")
    ranked = np.cumsum(value_lost[order])
    return {
        label: round(float(ranked[top_k(label, len(score)) - 1]) / total, 4) if total else 0.0
        for label in CAPTURE_AT
    }


def auc(stopped: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve of ``score`` for ``stopped``; ``None`` with only one outcome."""
    from sklearn.metrics import roc_auc_score

    if len(np.unique(stopped)) < 2:
        return None
    return round(float(roc_auc_score(stopped, score)), 4)


def gains_curve(value_lost: np.ndarray, score: np.ndarray, points: int = 20) -> list[float]:
    """Share of value lost captured at 0, 1/points, …, 100 % of customers."""
    total = float(value_lost.sum()) or 1.0
    ranked = np.concatenate([[0.0], np.cumsum(value_lost[np.argsort(-score, kind="stable")])])
    at = np.round(np.linspace(0, len(score), points + 1)).astype(int)
    return [round(float(ranked[i]) / total, 4) for i in at]


def calibration(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean expected vs mean actual by decile of ``expected`` (``decile``, ``customers``,
    ``expected``, ``actual``)."""
    frame = pd.DataFrame({"expected": expected, "actual": actual.astype(float)})
    frame["decile"] = (
        pd.qcut(frame["expected"].rank(method="first"), bins, labels=False) + 1
        if len(frame) >= bins
        else 1
    )
    out = frame.groupby("decile").agg(
        customers=("expected", "size"), expected=("expected", "mean"), actual=("actual", "mean")
    )
    return out.round(4).reset_index()


def evidence_lift(outcomes: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """Share who stopped among customers with each conversation signal, and among those without.

    Args:
        outcomes: ``customer_outcomes``.
        flags: ``customer_id`` and one boolean column per signal.
    """
    frame = outcomes.merge(flags, on="customer_id", how="left")
    rows = []
    for signal in [c for c in flags.columns if c != "customer_id"]:
        has = frame[signal].astype("boolean").fillna(False).astype(bool)
        rows.append(
            {
                "signal": signal,
                "customers_with": int(has.sum()),
                "stopped_with": round(float(frame.loc[has, "stopped"].mean()), 4)
                if has.any()
                else None,
                "stopped_without": round(float(frame.loc[~has, "stopped"].mean()), 4)
                if (~has).any()
                else None,
            }
        )
    return pd.DataFrame(
        rows, columns=["signal", "customers_with", "stopped_with", "stopped_without"]
    )


LISTS = ("queue", "queue_risk", "clv_x_risk", "recency", "rfm", "random", "perfect")


def list_scores(
    ranked: pd.DataFrame, scores: pd.DataFrame, outcomes: pd.DataFrame, seed: int = 0
) -> pd.DataFrame:
    """One risk score per list and customer (higher = worked first), in ``outcomes``' order.

    - ``queue``: the queue's order — customers with a case first, by priority; then the rest,
      by priority (``retention_queue.rank_customers``);
    - ``queue_risk``: the queue's own estimate of who stops, P(leaving), value left aside — the
      figure to compare with the baselines' AUC, since the queue's order puts a likely leaver
      of little value below a less likely one of much value on purpose;
    - ``clv_x_risk``: the value model's own value at risk, CLV if retained × (1 − P(alive));
    - ``recency``: days since the last purchase;
    - ``rfm``: (6 − recency score) × (frequency score + monetary score): valuable customers who
      have not bought lately (RFM's "can't lose them") first;
    - ``random``: a seeded shuffle; ``perfect``: the value each customer really took away.
    """
    from patronage.tasks.transforms.queues.retention_queue import REASONS

    ids = outcomes["customer_id"]
    order = ranked.set_index("customer_id")
    in_queue = order[list(REASONS)].any(axis=1)
    # rank positions as a score: a case always outranks a customer without one
    position = pd.Series(np.arange(len(order), 0, -1, dtype=float), index=order.index)
    queue = position + np.where(in_queue, len(order), 0)
    by_id = scores.set_index("customer_id")
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "queue": ids.map(queue).to_numpy(float),
            "queue_risk": ids.map(order["p_leaving"]).to_numpy(float),
            "clv_x_risk": ids.map(by_id["value_at_risk"]).to_numpy(float),
            "recency": ids.map(by_id["days_since_last"]).to_numpy(float),
            "rfm": ids.map((6 - by_id["r_score"]) * (by_id["f_score"] + by_id["m_score"])).to_numpy(
                float
            ),
            "random": rng.permutation(len(ids)).astype(float),
            "perfect": outcomes["value_lost"].to_numpy(float),
        }
    )


def precision_at(stopped: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Share of the top-k by ``score`` who stopped buying, for each k in ``CAPTURE_AT``."""
    ranked = stopped[np.argsort(-score, kind="stable")].astype(float)
    return {
        label: round(float(ranked[: top_k(label, len(score))].mean()), 4) for label in CAPTURE_AT
    }


def judge_lists(outcomes: pd.DataFrame, lists: pd.DataFrame) -> dict:
    """Value capture, AUC (all customers and repeat buyers) and precision@k for every list."""
    value = outcomes["value_lost"].to_numpy(float)
    stopped = outcomes["stopped"].to_numpy(bool)
    repeat = outcomes["repeat_buyer"].to_numpy(bool)
    judged: dict[str, dict] = {"capture": {}, "auc": {}, "precision": {}}
    for name in lists.columns:
        score = lists[name].to_numpy(float)
        judged["capture"][name] = value_capture(value, score)
        judged["auc"][name] = {
            "all": auc(stopped, score),
            "repeat": auc(stopped[repeat], score[repeat]) if repeat.any() else None,
        }
        judged["precision"][name] = precision_at(stopped, score)
    return judged
