"""The retention queue, ranked partition by partition on the task runner.

Everything about a case is per customer except one number: the entry cut (the expected loss
from which a customer is in the top ``entry_share`` of all customers). Each partition scores
its customers' priority; the flow takes the cut from every partition's expected losses; each
partition ranks its customers by it and keeps its best ``size`` candidates; the flow ranks the
candidates together and keeps the best ``size``, which are the best ``size`` of all customers
(priority, then customer id, orders customers totally).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from patronage.config import Policy, RetentionPolicy
from patronage.tasks.stages.partitioning import partition_count
from patronage.tasks.transforms.customer_partitions import split_by_customer
from patronage.tasks.transforms.queues.retention_queue import (
    case_candidates,
    conversation_evidence,
    entry_cut,
    rank_by_priority,
    retention_cases,
    score_priority,
    set_priority,
)


@task(cache_policy=NO_CACHE, task_run_name="prioritise-customers-{part}")
def prioritise_customers(
    scores: pd.DataFrame, evidence: pd.DataFrame, policy: RetentionPolicy, part: int
) -> pd.DataFrame:
    """One partition's ``score_priority``."""
    return score_priority(scores, evidence, policy)


@task(cache_policy=NO_CACHE, task_run_name="expected-losses-{part}")
def expected_losses(prioritised: pd.DataFrame, part: int) -> pd.Series:
    """One partition's expected losses: all the entry cut needs of it."""
    return prioritised["expected_loss"]


@task(cache_policy=NO_CACHE, task_run_name="case-candidates-{part}")
def select_case_candidates(
    prioritised: pd.DataFrame, cut: float, policy: RetentionPolicy, size: int, part: int
) -> pd.DataFrame:
    """One partition's best ``size`` customers with a reason, ranked with the entry cut."""
    return case_candidates(set_priority(prioritised, cut, policy), size)


def rank_retention_cases(
    scores: pd.DataFrame,
    conversations: pd.DataFrame,
    tickets: pd.DataFrame,
    as_of: date,
    policy: Policy,
    size: int,
    customers_per_partition: int,
) -> pd.DataFrame:
    """At most ``size`` cases, one per customer, ranked (``build_retention_queue``'s cases).

    Args:
        customers_per_partition: Customers per task on Dask; in-process one task ranks all.
    """
    evidence = conversation_evidence(conversations, tickets, as_of, policy.triggers)
    parts = partition_count(len(scores), customers_per_partition)
    # Priorities stay where they were made (a Dask worker); losses and candidates travel.
    prioritised = [
        prioritise_customers.submit(s, e, policy.retention, i)
        for i, (s, e) in enumerate(
            zip(split_by_customer(scores, parts), split_by_customer(evidence, parts), strict=True)
        )
    ]
    losses = [expected_losses.submit(p, i) for i, p in enumerate(prioritised)]
    cut = entry_cut(pd.concat([f.result() for f in losses], ignore_index=True), policy.retention)
    selecting = [
        select_case_candidates.submit(p, cut, policy.retention, size, i)
        for i, p in enumerate(prioritised)
    ]
    candidates = [f.result() for f in selecting]
    if len(candidates) > 1:
        candidates = [rank_by_priority(pd.concat(candidates, ignore_index=True)).head(size)]
    return retention_cases(candidates[0], as_of, policy)
