"""Customer scores: one row per customer with purchases (value, RFM, tier, triggers)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from patronage.config import TriggerConfig, ValueModelConfig
from patronage.tasks.transforms.value.bgnbd import fit_bgnbd
from patronage.tasks.transforms.value.customer_summary import summarize_transactions
from patronage.tasks.transforms.value.customer_value import assign_value_tiers, score_customer_value
from patronage.tasks.transforms.value.gamma_gamma import fit_gamma_gamma
from patronage.tasks.transforms.value.retention_triggers import detect_retention_triggers
from patronage.tasks.transforms.value.rfm import score_rfm
from patronage.tasks.transforms.value.value_refit import StoredFit, refit_reason


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
    not due, ``value_refit``), score, tier and fire triggers.

    Fitting is global (one set of parameters per run); scoring after it works on any
    partition of customers, so it can be mapped over partitions on a distributed engine.

    Returns:
        ``(scores, model)``: one row per customer with purchases, and the parameters in use
        (``refit``: why they were fitted tonight, empty when the stored fit was used;
        ``fitted_as_of``: the night they were fitted).
    """
    summary = summarize_transactions(orders, as_of)
    refit = refit_reason(
        stored, as_of, len(summary), value_model.refit_after_days, value_model.refit_on_growth
    )
    if refit or stored is None:
        bgnbd, gamma_gamma, fitted_as_of = fit_bgnbd(summary), fit_gamma_gamma(summary), as_of
    else:
        bgnbd, gamma_gamma, fitted_as_of = stored.bgnbd, stored.gamma_gamma, stored.fitted_as_of
    scores = score_customer_value(summary, bgnbd, gamma_gamma, value_model).merge(
        summary, on="customer_id"
    )
    scores["value_tier"] = assign_value_tiers(scores, value_model)
    scores = (
        scores.merge(score_rfm(summary), on="customer_id")
        .merge(detect_retention_triggers(scores, triggers, previous, as_of), on="customer_id")
        .merge(customers[["customer_id", "account_owner"]], on="customer_id", how="left")
    )
    model = {
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
        "fitted_as_of": fitted_as_of,
    }
    return scores, model
