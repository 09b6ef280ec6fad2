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


def gamma_gamma_log_likelihood(params: np.ndarray, frequency: np.ndarray,
                               monetary: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood of mean spend ``monetary`` over ``frequency`` purchases."""
    p, q, v = params
    x, m = frequency, monetary
    return (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q)
            + q * np.log(v) + (p * x - 1) * np.log(m) + p * x * np.log(x)
            - (p * x + q) * np.log(x * m + v))


def fit_gamma_gamma(summary: pd.DataFrame) -> GammaGammaParams:
    """Fit on customers with repeat purchases and positive spend; heuristic fallback if needed."""
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    x = repeat["frequency"].to_numpy(dtype=float)
    m = repeat["monetary_value"].to_numpy(dtype=float)
    n = len(x)
    if n < 3:
        mean = float(summary["total_revenue"].sum() / max(summary["n_orders"].sum(), 1))
        return GammaGammaParams(1.0, 3.0, 2.0 * max(mean, 1.0), float("nan"), n, False, "heuristic")

    def objective(log_params: np.ndarray) -> float:
        value = -gamma_gamma_log_likelihood(np.exp(log_params), x, m).sum() / n
        return float(value) if np.isfinite(value) else 1e12

    x0 = np.log([1.0, 2.0, max(float(np.mean(m)), 1.0)])
    result = optimize.minimize(objective, x0=x0, method="L-BFGS-B",
                               bounds=[(-10, 10), (np.log(1.01), 10), (-10, 20)])
    params = np.exp(result.x)
    ll = float(gamma_gamma_log_likelihood(params, x, m).sum())
    if result.success and np.isfinite(ll):
        return GammaGammaParams(*map(float, params), ll, n, True)
    mean = float(np.mean(m))
    return GammaGammaParams(1.0, 3.0, 2.0 * mean, float("nan"), n, False, "heuristic")


def expected_average_order_value(g: GammaGammaParams, frequency: np.ndarray,
                                 monetary: np.ndarray) -> np.ndarray:
    """E[mean spend | x, m_x]: shrinks each customer's mean towards the population mean."""
    x = np.asarray(frequency, float)
    m = np.where(x > 0, np.asarray(monetary, float), 0.0)
    return g.p * (g.v + x * m) / (g.p * x + g.q - 1)
