"""BG/NBD purchase-and-dropout model (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

Everything is vectorised over customers and computed in log space (``gammaln``, ``logaddexp``)
so that frequency 0 and very long ages ``T`` stay finite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD parameters and how the fit went.

    Attributes:
        r, alpha: Gamma heterogeneity of purchase rates (shape, scale-inverse).
        a, b: Beta heterogeneity of the dropout probability.
        log_likelihood: Total log-likelihood at the optimum.
        n_customers: Customers the fit saw.
        converged: Whether the optimiser reported success.
        method: ``"mle"``, or ``"heuristic"`` when the fit failed and a fallback was used.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int
    converged: bool
    method: str = "mle"


def bgnbd_log_likelihood(
    params: np.ndarray, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood for ``params = (r, alpha, a, b)``."""
    r, alpha, a, b = params
    x, t_x = frequency, recency
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return a1 + a2 + np.logaddexp(a3, a4)


def _negative_mean_log_likelihood(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weight: np.ndarray | None = None
):
    """Objective and analytic gradient in log-parameter space, for L-BFGS-B.

    Each row is ``weight`` customers sharing one (frequency, recency, T) (one customer per row
    when None). Frequencies, recencies and ages take few distinct values (days): terms that
    depend on the frequency alone are summed over distinct frequencies weighted by their
    counts, and the logarithms are evaluated once per distinct value and gathered. Only the
    two-branch ``logaddexp`` is computed per row.
    """
    w = np.ones(len(x)) if weight is None else np.asarray(weight, float)
    n = w.sum()
    x_u, x_i = np.unique(x, return_inverse=True)
    x_count = np.bincount(x_i, weights=w, minlength=len(x_u))
    tx_u, tx_i = np.unique(t_x, return_inverse=True)
    T_u, T_i = np.unique(T, return_inverse=True)
    no_repeat = np.where(x > 0, 0.0, -np.inf)  # the second branch exists only after a repeat

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(log_params)
        r_x = r + x
        log_aT = np.log(alpha + T_u)[T_i]
        log_atx = np.log(alpha + tx_u)[tx_i]
        b_x1 = np.maximum(b + x_u - 1, 1e-300)
        a3 = -r_x * log_aT
        a4 = np.log(a) - np.log(b_x1)[x_i] - r_x * log_atx + no_repeat
        both = np.logaddexp(a3, a4)
        per_frequency = (
            special.gammaln(r + x_u) + special.gammaln(b + x_u) - special.gammaln(a + b + x_u)
        ) @ x_count
        total = (
            per_frequency
            + n
            * (special.gammaln(a + b) - special.gammaln(b) - special.gammaln(r) + r * np.log(alpha))
            + w @ both
        )
        if not np.isfinite(total):
            return 1e12, np.zeros(4)
        share4 = np.exp(a4 - both)  # share of the "dropped out after the last purchase" branch
        w4 = w * share4
        w3 = w - w4
        w4_by_x = np.bincount(x_i, weights=w4, minlength=len(x_u))
        dg_abx = special.digamma(a + b + x_u) @ x_count
        d_r = (
            special.digamma(r + x_u) @ x_count
            - n * special.digamma(r)
            + n * np.log(alpha)
            - (w3 @ log_aT)
            - (w4 @ log_atx)
        )
        inv_aT = (1.0 / (alpha + T_u))[T_i]
        inv_atx = (1.0 / (alpha + tx_u))[tx_i]
        d_alpha = n * r / alpha - r_x @ (w3 * inv_aT + w4 * inv_atx)
        d_a = n * special.digamma(a + b) - dg_abx + w4_by_x.sum() / a
        d_b = (
            n * special.digamma(a + b)
            + special.digamma(b + x_u) @ x_count
            - n * special.digamma(b)
            - dg_abx
            - (w4_by_x / b_x1).sum()
        )
        grad = -np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b]) / n
        return float(-total / n), grad

    return objective


def purchase_counts(summary: pd.DataFrame) -> pd.DataFrame:
    """The distinct (``frequency``, ``recency``, ``T``) and how many ``customers`` hold each,
    in key order: all the BG/NBD likelihood needs, as each customer's term depends on these
    three alone. Counts of disjoint sets of customers add up (``fit_statistics``)."""
    return (
        summary.groupby(["frequency", "recency", "T"], sort=True, dropna=False)
        .size()
        .rename("customers")
        .reset_index()
    )


def fit_bgnbd(summary: pd.DataFrame, max_iter: int = 500) -> BgNbdParams:
    """Fit BG/NBD by maximum likelihood on each customer's ``frequency``, ``recency`` and
    ``T`` (see ``fit_bgnbd_counts``)."""
    return fit_bgnbd_counts(purchase_counts(summary), max_iter)


def fit_bgnbd_counts(counts: pd.DataFrame, max_iter: int = 500) -> BgNbdParams:
    """Fit BG/NBD by maximum likelihood on ``purchase_counts``.

    Optimises in log-parameter space with L-BFGS-B. If the optimiser does not converge, returns
    moment-based heuristic parameters labelled ``method="heuristic"`` rather than a silent guess.
    """
    x = counts["frequency"].to_numpy(dtype=float)
    t_x = counts["recency"].to_numpy(dtype=float)
    T = counts["T"].to_numpy(dtype=float)
    w = counts["customers"].to_numpy(dtype=float)
    n = int(w.sum())
    if n == 0:
        raise ValueError("fit_bgnbd: no customers with purchases to fit the model on")

    objective = _negative_mean_log_likelihood(x, t_x, T, w)
    result = optimize.minimize(
        objective,
        x0=np.zeros(4),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-10, 10)] * 4,
        options={"maxiter": max_iter},
    )
    r, alpha, a, b = np.exp(result.x)
    ll = float(w @ bgnbd_log_likelihood(np.exp(result.x), x, t_x, T))
    if result.success and np.isfinite(ll):
        return BgNbdParams(float(r), float(alpha), float(a), float(b), ll, n, True)
    # Fallback: a rate from the pooled purchase rate, a mild dropout prior.
    rate = max((w @ x + 1) / max(w @ T, 1.0), 1e-6)
    fallback = np.array([1.0, 1.0 / rate, 1.0, 3.0])
    ll = float(w @ bgnbd_log_likelihood(fallback, x, t_x, T))
    return BgNbdParams(*map(float, fallback), ll, n, False, method="heuristic")


def _log_dropout_odds(p: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """log of a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x): the odds of having dropped out."""
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = (
            np.log(p.a)
            - np.log(np.maximum(p.b + x - 1, 1e-300))
            + (p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + t_x))
        )
    return np.where(x > 0, odds, -np.inf)


def probability_alive(
    p: BgNbdParams, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(still alive | x, t_x, T); exactly 1 for customers without repeat purchases."""
    return special.expit(
        -_log_dropout_odds(
            p, np.asarray(frequency, float), np.asarray(recency, float), np.asarray(T, float)
        )
    )


def expected_purchases_if_alive(
    p: BgNbdParams, t: float, frequency: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Expected purchases in the next ``t`` days for a customer who is still alive."""
    x = np.asarray(frequency, float)
    T = np.asarray(T, float)
    if t <= 0:
        return np.zeros_like(x)
    z = t / (p.alpha + T + t)
    log_ratio = (p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + T + t))
    hyp = special.hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1, z)
    return (p.a + p.b + x - 1) / (p.a - 1) * (1 - np.exp(log_ratio) * hyp)


def probability_no_purchase(
    p: BgNbdParams, t: float, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(no purchase in the next ``t`` days | x, t_x, T), for every customer with a purchase.

    Either the customer has dropped out, or is alive and makes no purchase in ``t`` days. In
    BG/NBD a customer can only drop out right after a purchase, so an alive customer who buys
    nothing stays alive throughout, and given alive the purchase rate's posterior is
    Gamma(r + x, alpha + T): P(none in t | alive) = ((alpha + T) / (alpha + T + t))^(r + x).
    Unlike P(alive), this is informative for one-time buyers too (their P(alive) is 1).
    """
    x = np.asarray(frequency, float)
    T = np.asarray(T, float)
    alive = probability_alive(p, x, recency, T)
    quiet_if_alive = np.exp((p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + T + t)))
    return (1 - alive) + alive * quiet_if_alive


def expected_purchases(
    p: BgNbdParams, t: float, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Conditional expected purchases in the next ``t`` days (Fader, Hardie & Lee 2005, eq. 10)."""
    return probability_alive(p, frequency, recency, T) * expected_purchases_if_alive(
        p, t, frequency, T
    )
