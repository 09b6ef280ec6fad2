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


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGammaParams:
    """Fit on customers with repeat purchases and positive spend; heuristic fallback if needed."""
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    x = repeat["frequency"].to_numpy(dtype=float)
    m = repeat["monetary_value"].to_numpy(dtype=float)
    n = len(x)
    if n < 3:
        mean = float(summary["total_revenue"].sum() / max(summary["n_orders"].sum(), 1))
        return GammaGammaParams(1.0, 3.0, 2.0 * max(mean, 1.0), float("nan"), n, False, "heuristic")

    # Terms in the frequency alone are evaluated per distinct frequency, weighted by counts.
    x_u, x_i, x_count = np.unique(x, return_inverse=True, return_counts=True)
    log_m_sum = float(np.log(m) @ x)  # Σ x·log m, for the p-derivative
    log_m_total = float(np.log(m).sum())
    x_log_x = float(x @ np.log(x))

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
            - px_q @ log_xmv
        )
        if not np.isfinite(total):
            return 1e12, np.zeros(3)
        dg_pxq = special.digamma(p * x_u + q)
        d_p = (
            (x_u * (dg_pxq - special.digamma(p * x_u))) @ x_count
            + log_m_sum
            + x_log_x
            - x @ log_xmv
        )
        d_q = dg_pxq @ x_count - n * special.digamma(q) + n * np.log(v) - log_xmv.sum()
        d_v = n * q / v - (px_q / xm_v).sum()
        return float(-total / n), -np.array([d_p * p, d_q * q, d_v * v]) / n

    x0 = np.log([1.0, 2.0, max(float(np.mean(m)), 1.0)])
    result = optimize.minimize(
        objective,
        x0=x0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-10, 10), (np.log(1.01), 10), (-10, 20)],
    )
    params = np.exp(result.x)
    ll = float(gamma_gamma_log_likelihood(params, x, m).sum())
    if result.success and np.isfinite(ll):
        return GammaGammaParams(*map(float, params), ll, n, True)
    mean = float(np.mean(m))
    return GammaGammaParams(1.0, 3.0, 2.0 * mean, float("nan"), n, False, "heuristic")


def expected_average_order_value(
    g: GammaGammaParams, frequency: np.ndarray, monetary: np.ndarray
) -> np.ndarray:
    """E[mean spend | x, m_x]: shrinks each customer's mean towards the population mean."""
    x = np.asarray(frequency, float)
    m = np.where(x > 0, np.asarray(monetary, float), 0.0)
    return g.p * (g.v + x * m) / (g.p * x + g.q - 1)
