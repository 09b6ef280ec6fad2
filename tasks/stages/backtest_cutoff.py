"""One backtest cut-off: the queue as the nightly would have built it then, and what happened next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from patronage.config import (
    IdentityConfig,
    Policy,
    RetentionPolicy,
    TextConfig,
    ValueModelConfig,
)
from patronage.tasks.stages.link_conversations import link_conversations
from patronage.tasks.stages.score_customers import score_customers
from patronage.tasks.transforms.backtest.backtest_metrics import (
    calibration,
    customer_outcomes,
    evidence_lift,
    gains_curve,
    judge_lists,
    list_scores,
)
from patronage.tasks.transforms.backtest.point_in_time import as_of_cut
from patronage.tasks.transforms.queues.retention_queue import (
    CONVERSATION_REASONS,
    REASONS,
    conversation_evidence,
    rank_customers,
)


@dataclass
class CutoffFrames:
    """What a policy needs to be judged again at one cut-off without rebuilding anything."""

    as_of: date
    scores: pd.DataFrame
    evidence: pd.DataFrame
    outcomes: pd.DataFrame


@task(cache_policy=NO_CACHE, task_run_name="backtest-{as_of}")
def rebuild_cutoff(
    valid: dict[str, pd.DataFrame],
    as_of: date,
    horizon_days: int,
    value_model: ValueModelConfig,
    policy: Policy,
    identity: IdentityConfig,
    text: TextConfig,
) -> CutoffFrames:
    """Score customers and read conversations with only the data up to ``as_of`` (the same
    tasks as the nightly, with no stored state: no previous scores, links or corrections), and
    take the outcomes from the ``horizon_days`` after it."""
    past = as_of_cut(valid, as_of)
    horizon_model = value_model.model_copy(update={"risk_horizon_days": horizon_days})
    scores, _ = score_customers.fn(
        past["customers"], past["orders"], as_of, horizon_model, policy.triggers
    )
    conversations, _, _, _ = link_conversations.fn(
        past["customers"],
        past["social_posts"],
        past["tickets"],
        past["ticket_comments"],
        past["ideas"],
        None,
        scores,
        None,
        identity,
        None,
        text,
        policy.brand_handles,
    )
    evidence = conversation_evidence(conversations, past["tickets"], as_of, policy.triggers)
    outcomes = customer_outcomes(scores, valid["orders"], as_of, horizon_days)
    return CutoffFrames(as_of, scores, evidence, outcomes)


def judge_cutoff(frames: CutoffFrames, policy: RetentionPolicy, seed: int = 0) -> dict:
    """The queue under ``policy`` and every baseline, judged on one cut-off's outcomes."""
    ranked = rank_customers(frames.scores, frames.evidence, policy)
    lists = list_scores(ranked, frames.scores, frames.outcomes, seed)
    judged = judge_lists(frames.outcomes, lists)
    scores = frames.scores.set_index("customer_id").loc[frames.outcomes["customer_id"]]
    flags = (
        frames.evidence[["customer_id", *CONVERSATION_REASONS]]
        if len(frames.evidence)
        else (pd.DataFrame(columns=["customer_id", *CONVERSATION_REASONS]))
    )
    return {
        "as_of": frames.as_of.isoformat(),
        "customers": len(frames.outcomes),
        "repeat_buyers": int(frames.outcomes["repeat_buyer"].sum()),
        "stopped": int(frames.outcomes["stopped"].sum()),
        "value_lost": round(float(frames.outcomes["value_lost"].sum()), 2),
        "queue_cases": int(ranked[list(REASONS)].any(axis=1).sum()),
        **judged,
        "calibration": {
            "p_stop": calibration(
                scores["p_stop"].to_numpy(float), frames.outcomes["stopped"].to_numpy()
            ).to_dict("records"),
            "purchases": calibration(
                scores["expected_purchases_horizon"].to_numpy(float),
                frames.outcomes["purchases"].to_numpy(),
            ).to_dict("records"),
        },
        "evidence": evidence_lift(frames.outcomes, flags).to_dict("records"),
        "gains": {
            name: gains_curve(
                frames.outcomes["value_lost"].to_numpy(float), lists[name].to_numpy(float)
            )
            for name in lists.columns
        },
    }
