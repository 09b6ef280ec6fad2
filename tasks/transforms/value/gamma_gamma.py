"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005b): expected average order value."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters (p, q, v) and how the fit went."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n_customers: int
    converged: bool
    method: str = "mle"


def gamma_gamma_log_likelihood(
    params: np.ndarray, frequency: np.ndarray, monetary: np.ndarray
) -> np.ndarray:
    """Per-customer log-likelihood of mean spend ``monetary`` over ``frequency`` purchases."""
    p, q, v = params
    x, m = frequency, monetary
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )


def spend_counts(summary: pd.DataFrame) -> pd.DataFrame:
    """The distinct (``frequency``, ``monetary_value``) of customers with repeat purchases and
    positive spend, and how many ``customers`` hold each, in key order: all the Gamma-Gamma
    likelihood needs. Counts of disjoint sets of customers add up (``fit_statistics``)."""
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    return (
        repeat.groupby(["frequency", "monetary_value"], sort=True, dropna=False)
        .size()
        .rename("customers")
        .reset_index()
    )


def revenue_and_orders(summary: pd.DataFrame) -> tuple[float, int]:
    """Revenue and orders of all customers: the fallback's population mean order value is
    their ratio."""
    return float(summary["total_revenue"].sum()), int(summary["n_orders"].sum())


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGammaParams:
    """Fit on customers with repeat purchases and positive spend (see ``fit_gamma_gamma_counts``)."""
    return fit_gamma_gamma_counts(spend_counts(summary), *revenue_and_orders(summary))


def fit_gamma_gamma_counts(counts: pd.DataFrame, revenue: float, orders: int) -> GammaGammaParams:
    """Fit on ``spend_counts``; heuristic fallback if needed (from ``revenue / orders`` of all
    customers when fewer than three have repeat purchases)."""
    x = counts["frequency"].to_numpy(dtype=float)
    m = counts["monetary_value"].to_numpy(dtype=float)
    w = counts["customers"].to_numpy(dtype=float)
    n = int(w.sum())
    if n < 3:
        mean = revenue / max(orders, 1)
        return GammaGammaParams(1.0, 3.0, 2.0 * max(mean, 1.0), float("nan"), n, False, "heuristic")

    # Terms in the frequency alone are evaluated per distinct frequency, weighted by counts.
    x_u, x_i = np.unique(x, return_inverse=True)
    x_count = np.bincount(x_i, weights=w, minlength=len(x_u))
    wx = w * x
    log_m = np.log(m)
    log_m_sum = float(wx @ log_m)  # Σ x·log m, for the p-derivative
    log_m_total = float(w @ log_m)
    x_log_x = float(wx @ np.log(x))

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = np.exp(log_params)
        xm_v = x * m + v
        log_xmv = np.log(xm_v)
        px_q = p * x + q
        total = (
            (special.gammaln(p * x_u + q) - special.gammaln(p * x_u)) @ x_count
            - n * special.gammaln(q)
            + n * q * np.log(v)
            + p * log_m_sum
            - log_m_total
            + p * x_log_x
            - (w * px_q) @ log_xmv
        )
        if not np.isfinite(total):
            return 1e12, np.zeros(3)
        dg_pxq = special.digamma(p * x_u + q)
        d_p = (
            (x_u * (dg_pxq - special.digamma(p * x_u))) @ x_count
            + log_m_sum
            + x_log_x
            - wx @ log_xmv
        )
        d_q = dg_pxq @ x_count - n * special.digamma(q) + n * np.log(v) - w @ log_xmv
        d_v = n * q / v - w @ (px_q / xm_v)
        return float(-total / n), -np.array([d_p * p, d_q * q, d_v * v]) / n

    mean = float(w @ m) / n
    x0 = np.log([1.0, 2.0, max(mean, 1.0)])
    result = optimize.minimize(
        objective,
        x0=x0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-10, 10), (np.log(1.01), 10), (-10, 20)],
    )
    params = np.exp(result.x)
    ll = float(w @ gamma_gamma_log_likelihood(params, x, m))
    if result.success and np.isfinite(ll):
        return GammaGammaParams(*map(float, params), ll, n, True)
    return GammaGammaParams(1.0, 3.0, 2.0 * mean, float("nan"), n, False, "heuristic")


def expected_average_order_value(
    g: GammaGammaParams, frequency: np.ndarray, monetary: np.ndarray
) -> np.ndarray:
    """E[mean spend | x, m_x]: shrinks each customer's mean towards the population mean."""
    x = np.asarray(frequency, float)
    m = np.where(x > 0, np.asarray(monetary, float), 0.0)
    return g.p * (g.v + x * m) / (g.p * x + g.q - 1)
