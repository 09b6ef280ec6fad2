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


@task(cache_policy=NO_CACHE)
def score_customers(
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    as_of: date,
    value_model: ValueModelConfig,
    triggers: TriggerConfig,
    previous: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Summarise orders, fit BG/NBD and Gamma-Gamma, score, tier and fire triggers.

    Fitting is global (one set of parameters per run); scoring after it works on any
    partition of customers, so it can be mapped over partitions on a distributed engine.

    Returns:
        ``(scores, model)``: one row per customer with purchases, and the fitted parameters.
    """
    summary = summarize_transactions(orders, as_of)
    bgnbd = fit_bgnbd(summary)
    gamma_gamma = fit_gamma_gamma(summary)
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
    }
    return scores, model
