"""Customer value stage at scale, side by side with the `lifetimes` package when installed.

`make bench-value` (CUSTOMERS=… to resize; default 1,000,000 customers, about 20M orders).
Both sides get the same orders and do the same work: transaction summary, BG/NBD fit, Gamma-Gamma
fit, then P(alive), expected purchases in 90 days and expected order value for every customer.
Prints seconds and log-likelihoods; asserts nothing.
"""

from __future__ import annotations

import os
import resource
import time
from datetime import date

import numpy as np
import pandas as pd

AS_OF = date(2026, 10, 31)
DAYS = 730


def simulate_orders(customers: int, seed: int = 5) -> pd.DataFrame:
    """BG/NBD-like purchases for integer customer ids, vectorised (about 20 orders each)."""
    from patronage.simulator import simulate_purchases

    rng = np.random.default_rng(seed)
    birth = rng.uniform(0, DAYS - 30, customers)
    lam = rng.gamma(1.5, 1 / 17.0, customers)
    p_drop = rng.beta(0.4, 6.0, customers)
    idx, day, _ = simulate_purchases(rng, birth, float(DAYS), lam, p_drop)
    start = pd.Timestamp(AS_OF) - pd.Timedelta(days=DAYS)
    spend = rng.lognormal(3.7, 0.75, customers)
    return pd.DataFrame(
        {
            "customer_id": idx.astype(np.int64),
            "ordered_at": start + pd.to_timedelta(np.round(day * 86400), unit="s"),
            "amount": np.round(spend[idx] * rng.gamma(6.0, 1 / 6.0, len(idx)), 2),
        }
    )


def patronage_side(orders: pd.DataFrame) -> tuple[dict[str, float], float]:
    from patronage.config import ValueModelConfig
    from patronage.tasks.transforms.value.bgnbd import (
        expected_purchases,
        fit_bgnbd,
        probability_alive,
    )
    from patronage.tasks.transforms.value.customer_summary import summarize_transactions
    from patronage.tasks.transforms.value.customer_value import score_customer_value
    from patronage.tasks.transforms.value.gamma_gamma import (
        expected_average_order_value,
        fit_gamma_gamma,
    )

    times: dict[str, float] = {}
    t = time.perf_counter()
    summary = summarize_transactions(orders, AS_OF)
    times["summary"] = time.perf_counter() - t
    t = time.perf_counter()
    bgnbd = fit_bgnbd(summary)
    gg = fit_gamma_gamma(summary)
    times["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    x, tx, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    probability_alive(bgnbd, x, tx, T)
    expected_purchases(bgnbd, 90, x, tx, T)
    expected_average_order_value(gg, x, summary["monetary_value"].to_numpy(float))
    times["score"] = time.perf_counter() - t
    t = time.perf_counter()
    score_customer_value(summary, bgnbd, gg, ValueModelConfig())
    times["clv (12 periods)"] = time.perf_counter() - t
    print(
        f"patronage fit: r={bgnbd.r:.4f} alpha={bgnbd.alpha:.4f} a={bgnbd.a:.4f} b={bgnbd.b:.4f} "
        f"({bgnbd.method}); gamma-gamma p={gg.p:.3f} q={gg.q:.3f} v={gg.v:.3f}"
    )
    return times, bgnbd.log_likelihood


def lifetimes_side(orders: pd.DataFrame) -> tuple[dict[str, float], float] | None:
    try:
        from lifetimes import BetaGeoFitter, GammaGammaFitter
        from lifetimes.utils import summary_data_from_transaction_data
    except ImportError:
        print("lifetimes is not installed (pip install lifetimes): patronage side only")
        return None
    times: dict[str, float] = {}
    t = time.perf_counter()
    summary = summary_data_from_transaction_data(
        orders,
        "customer_id",
        "ordered_at",
        monetary_value_col="amount",
        observation_period_end=pd.Timestamp(AS_OF),
    )
    times["summary"] = time.perf_counter() - t
    x, tx, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    t = time.perf_counter()
    bgf = BetaGeoFitter()
    bgf.fit(x, tx, T)
    repeat = summary[summary["frequency"] > 0]
    ggf = GammaGammaFitter()
    ggf.fit(repeat["frequency"].to_numpy(), repeat["monetary_value"].to_numpy())
    times["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    bgf.conditional_probability_alive(x, tx, T)
    bgf.conditional_expected_number_of_purchases_up_to_time(90, x, tx, T)
    ggf.conditional_expected_average_profit(
        summary["frequency"].to_numpy(), summary["monetary_value"].to_numpy()
    )
    times["score"] = time.perf_counter() - t
    # lifetimes fits on rescaled time, so its own likelihood is not comparable: evaluate the
    # same (unscaled) log-likelihood function at its parameters.
    from patronage.tasks.transforms.value.bgnbd import bgnbd_log_likelihood

    params = np.array([bgf.params_[k] for k in ("r", "alpha", "a", "b")])
    return times, float(
        bgnbd_log_likelihood(params, x.astype(float), tx.astype(float), T.astype(float)).sum()
    )


def main() -> None:
    customers = int(os.environ.get("CUSTOMERS", 1_000_000))
    t = time.perf_counter()
    orders = simulate_orders(customers)
    print(
        f"{customers:,} customers, {len(orders):,} orders simulated in {time.perf_counter() - t:.1f} s"
    )
    ours, our_ll = patronage_side(orders)
    theirs = lifetimes_side(orders)
    print(f"{'step':<18}{'patronage s':>13}{'lifetimes s':>13}")
    for step in ours:
        other = f"{theirs[0][step]:13.1f}" if theirs and step in theirs[0] else f"{'-':>13}"
        print(f"{step:<18}{ours[step]:13.1f}{other}")
    total = sum(v for k, v in ours.items() if k != "clv (12 periods)")
    print(
        f"{'summary+fit+score':<18}{total:13.1f}"
        + (
            f"{sum(theirs[0].values()):13.1f}  ({sum(theirs[0].values()) / total:.1f}x)"
            if theirs
            else ""
        )
    )
    print(
        f"BG/NBD log-likelihood: patronage {our_ll:,.1f}"
        + (f", lifetimes {theirs[1]:,.1f}" if theirs else "")
    )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
