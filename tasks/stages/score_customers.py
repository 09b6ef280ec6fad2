"""Customer scores: one row per customer with purchases (value, RFM, tier, triggers).

Scoring splits into work per customer, which runs on any partition of customers
(``value_partition``), and ranks across all of them (``rank_customers_by_value``: value tiers
and RFM quintiles are shares of the whole base). ``score_customers`` runs both on one frame;
the score stage (``value_customers``) maps the first over partitions on the task runner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from patronage.config import TriggerConfig, ValueModelConfig
from patronage.tasks.transforms.value.customer_summary import summarize_transactions
from patronage.tasks.transforms.value.customer_value import assign_value_tiers, score_customer_value
from patronage.tasks.transforms.value.fit_statistics import (
    FitStatistics,
    combine_fit_statistics,
    fit_statistics,
    fit_value_models,
)
from patronage.tasks.transforms.value.retention_triggers import detect_retention_triggers
from patronage.tasks.transforms.value.rfm import score_rfm
from patronage.tasks.transforms.value.value_refit import StoredFit, refit_reason


def value_partition(
    summary: pd.DataFrame,
    fit: StoredFit,
    value_model: ValueModelConfig,
    triggers: TriggerConfig,
    previous: pd.DataFrame | None,
    as_of: date,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score a partition's customers with ``fit`` and fire their triggers.

    Returns:
        ``(valued, triggered)``: value scores with the summary's columns, and the triggers
        (``detect_retention_triggers``), one row per customer of ``summary`` each.
    """
    valued = score_customer_value(summary, fit.bgnbd, fit.gamma_gamma, value_model).merge(
        summary, on="customer_id"
    )
    return valued, detect_retention_triggers(valued, triggers, previous, as_of)


def rank_customers_by_value(
    valued: pd.DataFrame,
    triggered: pd.DataFrame,
    customers: pd.DataFrame,
    value_model: ValueModelConfig,
) -> pd.DataFrame:
    """Tiers and RFM quintiles over all customers, with triggers and account owners joined
    (``valued`` gets the ``value_tier`` column)."""
    scores = valued
    scores["value_tier"] = assign_value_tiers(scores, value_model)
    return (
        scores.merge(score_rfm(scores), on="customer_id")
        .merge(triggered, on="customer_id")
        .merge(customers[["customer_id", "account_owner"]], on="customer_id", how="left")
    )


def fit_in_use(
    customers: int,
    as_of: date,
    value_model: ValueModelConfig,
    stored: StoredFit | None,
    count: Callable[[], FitStatistics],
) -> tuple[StoredFit, str]:
    """The ``stored`` fit while it is not due (``value_refit``), else a fit dated ``as_of`` on
    what ``count`` returns (called only then: counting a million customers takes half a
    second); and why it was fitted tonight (empty when the stored fit is used).

    Args:
        customers: Customers with orders tonight.
    """
    refit = refit_reason(
        stored, as_of, customers, value_model.refit_after_days, value_model.refit_on_growth
    )
    if refit or stored is None:
        return fit_value_models(count(), as_of), refit
    return stored, refit


def describe_model(fit: StoredFit, refit: str, scores: pd.DataFrame) -> dict:
    """The parameters in use, as a night's ``model`` record."""
    bgnbd, gamma_gamma = fit.bgnbd, fit.gamma_gamma
    return {
        **{k: v for k, v in asdict(bgnbd).items() if k in ("r", "alpha", "a", "b")},
        "bgnbd_ll": bgnbd.log_likelihood,
        "bgnbd_method": bgnbd.method,
        "n_customers": bgnbd.n_customers,
        "gamma_gamma_p": gamma_gamma.p,
        "gamma_gamma_q": gamma_gamma.q,
        "gamma_gamma_v": gamma_gamma.v,
        "gamma_gamma_ll": gamma_gamma.log_likelihood,
        "gamma_gamma_method": gamma_gamma.method,
        "n_repeat_customers": gamma_gamma.n_customers,
        "triggers_fired": int((scores["newly_fired"] != "").sum()),
        "refit": refit,
        "fitted_as_of": fit.fitted_as_of,
    }


@task(cache_policy=NO_CACHE)
def score_customers(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    as_of: date,
    value_model: ValueModelConfig,
    triggers: TriggerConfig,
    previous: pd.DataFrame | None = None,
    stored: StoredFit | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Summarise orders, fit BG/NBD and Gamma-Gamma (or take the ``stored`` fit while it is
    not due, ``value_refit``), score, tier and fire triggers, all customers in one partition.

    Returns:
        ``(scores, model)``: one row per customer with purchases, and the parameters in use
        (``refit``: why they were fitted tonight, empty when the stored fit was used;
        ``fitted_as_of``: the night they were fitted).
    """
    summary = summarize_transactions(orders, as_of)
    fit, refit = fit_in_use(
        len(summary), as_of, value_model, stored,
        lambda: combine_fit_statistics([fit_statistics(summary)]),
    )  # fmt: skip
    valued, triggered = value_partition(summary, fit, value_model, triggers, previous, as_of)
    scores = rank_customers_by_value(valued, triggered, customers, value_model)
    return scores, describe_model(fit, refit, scores)
