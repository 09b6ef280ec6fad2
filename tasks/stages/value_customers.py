"""Score stage: every customer's value, P(alive) and triggers, against the previous run's.

On a Dask cluster the customers are cut into partitions (every order of a customer in the same
one): each worker summarises its partition's orders; when a fit is due, each counts what the fit
needs and the flow sums the counts and fits once (``fit_statistics``: a reduction, equal to the
fit on all customers); then each worker scores its partition. Tiers and RFM quintiles rank all
customers and run in the flow on the scored rows. On the default thread pool all customers are
one partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from patronage.config import TriggerConfig, ValueModelConfig
from patronage.resources.database import PatronageDatabase
from patronage.tasks.io.previous_scores import read_previous_scores
from patronage.tasks.io.value_fit import read_value_fit
from patronage.tasks.stages.partitioning import partition_count
from patronage.tasks.stages.score_customers import (
    describe_model,
    fit_in_use,
    rank_customers_by_value,
    value_partition,
)
from patronage.tasks.transforms.customer_partitions import split_by_customer
from patronage.tasks.transforms.value.customer_summary import summarize_transactions
from patronage.tasks.transforms.value.fit_statistics import (
    FitStatistics,
    combine_fit_statistics,
    fit_statistics,
)
from patronage.tasks.transforms.value.value_refit import StoredFit


@dataclass(repr=False)
class Scored:
    """One row per customer with value scores (``scores``) and the fitted model's parameters."""

    scores: pd.DataFrame
    model: dict

    @property
    def rows(self) -> int:
        return len(self.scores)

    def __repr__(self) -> str:
        return f"Scored({self.rows} customers)"


@task(cache_policy=NO_CACHE, task_run_name="summarise-orders-{part}")
def summarise_orders(orders: pd.DataFrame, as_of: date, part: int) -> pd.DataFrame:
    """One partition's ``summarize_transactions``."""
    return summarize_transactions(orders, as_of)


@task(cache_policy=NO_CACHE, task_run_name="count-customers-{part}")
def count_customers(summary: pd.DataFrame, part: int) -> int:
    """Customers with orders in one partition (whether the stored fit is still due)."""
    return len(summary)


@task(cache_policy=NO_CACHE, task_run_name="count-for-fit-{part}")
def count_for_fit(summary: pd.DataFrame, part: int) -> FitStatistics:
    """One partition's ``fit_statistics``: the small part of its summary a fit needs."""
    return fit_statistics(summary)


@task(cache_policy=NO_CACHE, task_run_name="score-customers-{part}")
def score_customers_partition(
    summary: pd.DataFrame,
    fit: StoredFit,
    value_model: ValueModelConfig,
    triggers: TriggerConfig,
    previous: pd.DataFrame,
    as_of: date,
    part: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One partition's ``value_partition``."""
    return value_partition(summary, fit, value_model, triggers, previous, as_of)


def _concat_by_customer(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0]
    # In customer order, as one partition's summary is: ranks break ties by it.
    return pd.concat(frames, ignore_index=True).sort_values(
        "customer_id", kind="stable", ignore_index=True
    )


def value_customers(
    valid: dict[str, pd.DataFrame],
    as_of: date,
    database: PatronageDatabase,
    value_model: ValueModelConfig,
    triggers: TriggerConfig,
    customers_per_partition: int = 250_000,
) -> Scored:
    """Fit the value models (or reuse the stored fit while it is not due) and score every
    customer, partition by partition on the task runner; alive-drops compare with the last run.

    Args:
        customers_per_partition: Customers per task on Dask (a partition's summary and scores
            take seconds at the default, large next to a task's overhead).
    """
    parts = partition_count(len(valid["customers"]), customers_per_partition)
    orders = valid["orders"]
    if parts > 1:  # only what a summary reads travels to the workers
        orders = orders[["customer_id", "ordered_at", "amount"]]
    # Summaries stay where they were made (a Dask worker) for the scoring; only counts travel.
    summaries = [
        summarise_orders.submit(o, as_of, i) for i, o in enumerate(split_by_customer(orders, parts))
    ]
    # Read while the orders are summarised (2 s for a million customers' scores on SQLite).
    previous = read_previous_scores(database)
    stored = read_value_fit(database)
    previous_parts = split_by_customer(previous, parts)
    customers = sum(
        f.result() for f in [count_customers.submit(s, i) for i, s in enumerate(summaries)]
    )

    def count() -> FitStatistics:
        counted = [count_for_fit.submit(s, i) for i, s in enumerate(summaries)]
        return combine_fit_statistics([c.result() for c in counted])

    fit, refit = fit_in_use(customers, as_of, value_model, stored, count)
    scoring = [
        score_customers_partition.submit(s, fit, value_model, triggers, previous_parts[i], as_of, i)
        for i, s in enumerate(summaries)
    ]
    scored = [f.result() for f in scoring]
    scores = rank_customers_by_value(
        _concat_by_customer([v for v, _ in scored]),
        pd.concat([t for _, t in scored], ignore_index=True),
        valid["customers"],
        value_model,
    )
    return Scored(scores, describe_model(fit, refit, scores))
