"""Orders: BG/NBD purchasing with dropout and heavy-tailed spend, and who really leaves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from patronage.simulator.draft import Draft, serial_id_column, simulate_purchases, take_text


def draw_orders(d: Draft) -> None:
    """Orders before the cut-off (``d.orders``), after it (``d.holdout``), truth per customer."""
    rng, n, birth, horizon_end, start, ids, cutoff = (
        d.rng,
        d.n,
        d.birth,
        d.horizon_end,
        d.start,
        d.ids,
        d.cutoff,
    )

    # --- purchasing: heterogeneous rates, dropout, heavy-tailed spend ----------------------
    lam = rng.gamma(shape=0.9, scale=1 / 22.0, size=n)  # purchases per day while alive
    p_drop = rng.beta(0.7, 4.5, size=n)
    spend_mean = rng.lognormal(mean=3.7, sigma=0.75, size=n)
    cust_idx, day, dropout = simulate_purchases(rng, birth, horizon_end, lam, p_drop)
    amount = np.round(spend_mean[cust_idx] * rng.gamma(6.0, 1 / 6.0, len(cust_idx)), 2)
    amount = np.maximum(amount, 1.0)
    # Sorted by time, then customer id, on integer keys: the seconds, and each id's rank among
    # the ids as text ("C1000000" sorts before "C999999"). Sorting the text took 8 s at a
    # million customers; the order is the same.
    seconds = np.round(day * 86400).astype(np.int64)
    id_rank = np.empty(n, dtype=np.int64)
    id_rank[np.argsort(ids, kind="stable")] = np.arange(n)
    order = np.argsort(seconds * n + id_rank[cust_idx], kind="stable")  # one key, not lexsort
    all_orders = pd.DataFrame(
        {
            "order_id": serial_id_column("O", len(order), 8),
            "customer_id": take_text(ids, cust_idx[order]),
            "ordered_at": start + pd.to_timedelta(seconds[order], unit="s"),
            "amount": amount[order],
        }
    )
    before = day[order] <= cutoff
    orders = all_orders[before]
    holdout = all_orders[~before]

    # --- ground truth per customer ---------------------------------------------------------
    last_day = pd.Series(day[day <= cutoff]).groupby(cust_idx[day <= cutoff]).max()
    last_before = np.full(n, np.nan)
    last_before[last_day.index.to_numpy()] = last_day.to_numpy()
    n_before = np.bincount(cust_idx[day <= cutoff], minlength=n)
    n_holdout = np.bincount(cust_idx[day > cutoff], minlength=n)
    rev_holdout = np.bincount(cust_idx[day > cutoff], weights=amount[day > cutoff], minlength=n)
    true_value = lam * spend_mean  # expected spend per day while alive
    value_rank = pd.Series(true_value).rank(ascending=False, method="first").to_numpy()
    valuable = value_rank <= max(1, int(round(0.30 * n)))
    # Leaving: a repeat customer active in the year before the cut-off whose dropout falls
    # before, or within 90 days after, the cut-off: gone or going, not yet written off.
    recently_active = last_before >= cutoff - 365
    leaving = recently_active & (n_before >= 2) & (dropout < cutoff + 90)
    # Drifters: drop out shortly before or after the cut-off; they are the ones who complain.
    drifter = (dropout > cutoff - 150) & (dropout < cutoff + 60) & (n_before >= 2)

    truth_customers = pd.DataFrame(
        {
            "customer_id": ids,
            "purchase_rate_per_day": lam,
            "dropout_probability": p_drop,
            "mean_spend": spend_mean,
            "dropout_day": np.where(np.isinf(dropout), np.nan, dropout),
            "orders_before_cutoff": n_before,
            "orders_in_holdout": n_holdout,
            "revenue_in_holdout": np.round(rev_holdout, 2),
            "valuable": valuable,
            "leaving": leaving,
            "drifter": drifter,
        }
    )

    d.dropout = dropout
    d.n_before = n_before
    d.drifter = drifter
    d.orders = orders
    d.holdout = holdout
    d.truth_customers = truth_customers
