"""BG/NBD and Gamma-Gamma against hand-worked values."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import special

from patronage.tasks.transforms.value.bgnbd import (
    BgNbdParams,
    bgnbd_log_likelihood,
    expected_purchases,
    fit_bgnbd,
    probability_alive,
)
from patronage.tasks.transforms.value.gamma_gamma import (
    GammaGammaParams,
    expected_average_order_value,
)

from factories import TEST_DATA

PARAMS = BgNbdParams(
    r=0.5, alpha=10.0, a=0.8, b=2.5, log_likelihood=0, n_customers=0, converged=True
)


def test_log_likelihood_matches_closed_form_for_a_single_customer():
    r, alpha, a, b = 0.5, 10.0, 0.8, 2.5
    x, t_x, T = 2.0, 20.0, 40.0
    # FHL (2005) eq. 6, written out term by term.
    first = (
        special.gamma(r + x)
        * alpha**r
        / special.gamma(r)
        * special.gamma(a + b)
        * special.gamma(b + x)
        / (special.gamma(b) * special.gamma(a + b + x))
    )
    expected = math.log(
        first * ((alpha + T) ** -(r + x) + a / (b + x - 1) * (alpha + t_x) ** -(r + x))
    )
    got = bgnbd_log_likelihood(
        np.array([r, alpha, a, b]), np.array([x]), np.array([t_x]), np.array([T])
    )
    assert got[0] == pytest.approx(expected, rel=1e-12)


def test_log_likelihood_is_finite_for_zero_frequency_and_huge_age():
    got = bgnbd_log_likelihood(
        np.array([0.5, 10.0, 0.8, 2.5]),
        np.array([0.0, 0.0]),
        np.array([0.0, 0.0]),
        np.array([30.0, 1e7]),
    )
    assert np.all(np.isfinite(got))
    assert got[0] == pytest.approx(0.5 * math.log(10 / 40))  # r·log(α/(α+T))


def test_probability_alive_is_one_without_repeats_and_falls_with_silence():
    p = probability_alive(
        PARAMS, np.array([0, 3, 3]), np.array([0, 30, 30]), np.array([50, 40, 200])
    )
    assert p[0] == 1.0
    odds = 0.8 / (2.5 + 3 - 1) * ((10 + 200) / (10 + 30)) ** 3.5
    assert p[2] == pytest.approx(1 / (1 + odds), rel=1e-12)
    assert p[1] > p[2]


def test_expected_purchases_grow_with_horizon():
    e30 = expected_purchases(PARAMS, 30, np.array([3.0]), np.array([30.0]), np.array([40.0]))
    e90 = expected_purchases(PARAMS, 90, np.array([3.0]), np.array([30.0]), np.array([40.0]))
    assert 0 < e30[0] < e90[0]


def test_fit_recovers_parameters_of_simulated_bgnbd_data():
    rng = np.random.default_rng(3)
    n, T = 4000, 365.0
    lam = rng.gamma(0.9, 1 / 20.0, n)
    p = rng.beta(1.0, 4.0, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < p[i]:
                break
    fit = fit_bgnbd(pd.DataFrame({"frequency": x, "recency": t_x, "T": T}))
    assert fit.converged and fit.method == "mle"
    assert fit.r == pytest.approx(0.9, rel=0.2)
    assert fit.alpha == pytest.approx(20.0, rel=0.25)
    assert fit.a == pytest.approx(1.0, rel=0.35)
    assert fit.b == pytest.approx(4.0, rel=0.35)


def test_gamma_gamma_shrinks_towards_population_mean():
    g = GammaGammaParams(p=6.0, q=4.0, v=15.0, log_likelihood=0, n_customers=0, converged=True)
    got = expected_average_order_value(g, np.array([0, 2]), np.array([0.0, 50.0]))
    assert got[0] == pytest.approx(6 * 15 / 3)  # population mean p·v/(q−1)
    assert got[1] == pytest.approx(6 * (15 + 2 * 50) / (6 * 2 + 4 - 1))


DATA = TEST_DATA


def test_bgnbd_reproduces_fader_hardie_lee_2005_on_cdnow():
    """Published MLE (Fader, Hardie & Lee 2005, Marketing Science, CDNOW sample of 2,357):
    r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, log-likelihood = -9582.4."""
    summary = pd.read_csv(DATA / "cdnow_customers_summary.csv")
    fit = fit_bgnbd(summary)
    assert fit.converged and fit.n_customers == 2357
    for got, published in (
        (fit.r, 0.243),
        (fit.alpha, 4.414),
        (fit.a, 0.793),
        (fit.b, 2.426),
        (fit.log_likelihood, -9582.4),
    ):
        assert got == pytest.approx(published, rel=0.01)
    # The paper's worked example: x = 2, t_x = 30.43, T = 38.86 weeks → 1.226 purchases in 39 weeks.
    published = BgNbdParams(0.243, 4.414, 0.793, 2.426, 0, 0, True)
    got = expected_purchases(published, 39, np.array([2.0]), np.array([30.43]), np.array([38.86]))
    assert got[0] == pytest.approx(1.226, abs=5e-4)


def test_gamma_gamma_reproduces_fader_hardie_lee_2005b_on_cdnow():
    """Published MLE (Fader, Hardie & Lee 2005, JMR, CDNOW): p = 6.25, q = 3.74, gamma = 15.44."""
    from patronage.tasks.transforms.value.gamma_gamma import fit_gamma_gamma

    data = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    summary = data.rename(columns={"x": "frequency", "zbar": "monetary_value"}).assign(
        total_revenue=0.0, n_orders=1
    )
    fit = fit_gamma_gamma(summary)
    assert fit.converged and fit.n_customers == 946
    for got, published in ((fit.p, 6.25), (fit.q, 3.74), (fit.v, 15.44)):
        assert got == pytest.approx(published, rel=0.01)


def test_a_fit_that_does_not_converge_says_so_and_falls_back_labelled():
    summary = pd.read_csv(DATA / "cdnow_customers_summary.csv")
    fit = fit_bgnbd(summary, max_iter=1)
    assert (fit.converged, fit.method) == (False, "heuristic")
    assert np.isfinite(fit.log_likelihood)


def test_analytic_gradient_matches_finite_differences():
    from scipy.optimize import check_grad

    from patronage.tasks.transforms.value.bgnbd import _negative_mean_log_likelihood

    x = np.array([0.0, 1, 2, 5, 0, 3])
    t_x = np.array([0.0, 10, 30, 60, 0, 20])
    T = np.array([40.0, 50, 60, 90, 15, 80])
    objective = _negative_mean_log_likelihood(x, t_x, T)
    for point in (np.zeros(4), np.log([0.5, 10.0, 0.8, 2.5]), np.log([2.0, 3.0, 0.3, 6.0])):
        error = check_grad(lambda p: objective(p)[0], lambda p: objective(p)[1], point)
        assert error < 1e-5, (point, error)


def test_gamma_gamma_fit_is_the_likelihood_maximum():
    """The analytic-gradient fit sits where finite differences of the likelihood vanish."""
    from patronage.tasks.transforms.value.gamma_gamma import (
        fit_gamma_gamma,
        gamma_gamma_log_likelihood,
    )

    data = pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")
    summary = data.rename(columns={"x": "frequency", "zbar": "monetary_value"}).assign(
        total_revenue=0.0, n_orders=1
    )
    fit = fit_gamma_gamma(summary)
    repeat = summary[summary["frequency"] > 0]
    x, m = repeat["frequency"].to_numpy(float), repeat["monetary_value"].to_numpy(float)
    best = gamma_gamma_log_likelihood(np.array([fit.p, fit.q, fit.v]), x, m).sum()
    for step in np.eye(3) * 0.01:
        for sign in (1, -1):
            moved = np.array([fit.p, fit.q, fit.v]) * (1 + sign * step)
            assert gamma_gamma_log_likelihood(moved, x, m).sum() <= best + 1e-6
