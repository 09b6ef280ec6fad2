"""The nightly on Dask (prefect-dask's DaskTaskRunner on a LocalCluster of two worker
processes) publishes exactly the scores and queues the in-process run publishes."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from patronage.flows.nightly import nightly
from patronage.flows.task_runners import dask_task_runner
from patronage.resources.database import make_engine
from patronage.schemas.tables import (
    customer_scores,
    idea_supporters,
    ideation_items,
    retention_cases,
)
from patronage.tasks.stages.validate_datasets import validation_waves

from factories import nightly_params

PEOPLE_AND_TIME = {"opened_at", "claimed_at", "resolved_at", "status_changed_at", "run_id"}


def _queues(url: str) -> dict[str, pd.DataFrame]:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = {
            table.name: pd.DataFrame(
                conn.execute(
                    select(*(c for c in table.c if c.name not in PEOPLE_AND_TIME)).order_by(
                        *table.primary_key.columns
                    )
                ).all()
            )
            for table in (customer_scores, retention_cases, ideation_items, idea_supporters)
        }
    engine.dispose()
    return found


def test_validation_runs_in_waves_that_respect_references():
    assert validation_waves() == [
        ["customers", "social_posts", "tickets", "ideas"],
        ["orders", "ticket_comments"],
    ]


@pytest.mark.slow
def test_nightly_on_a_two_worker_dask_cluster_publishes_the_same_scores_and_queues(
    sample_company, tmp_path
):
    in_process = f"sqlite:///{tmp_path / 'in_process.db'}"
    on_dask = f"sqlite:///{tmp_path / 'on_dask.db'}"
    params = nightly_params(
        data_location=str(sample_company[0]), database_url=in_process, as_of=date(2026, 10, 31)
    )
    nightly(params)
    from distributed import Client, LocalCluster, get_task_stream

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
        get_task_stream(client) as stream,
    ):
        # As a deployment does it: the scheduler's address in PATRONAGE_DASK_ADDRESS.
        runner = dask_task_runner(cluster.scheduler_address)
        # 400 customers in partitions of 150: three tasks per step of scoring and ranking.
        summary = nightly.with_options(task_runner=runner)(
            params.model_copy(update={"database_url": on_dask, "customers_per_partition": 150})
        )
    assert summary["published"]
    # The extract and validation tasks ran on both worker processes, not in the flow's.
    ran = stream.data
    assert len(ran) >= len(summary["datasets"]) + len(summary["sources"])
    assert len({t["worker"] for t in ran}) == 2
    # Scoring and the retention ranking ran as three partitions each on the workers.
    tasks = Counter(t["key"].rsplit("-", 1)[0] for t in ran)
    partitioned = (
        "summarise_orders", "count_customers", "count_for_fit", "score_customers_partition",
        "prioritise_customers", "expected_losses", "select_case_candidates",
    )  # fmt: skip
    assert {name: tasks[name] for name in partitioned} == dict.fromkeys(partitioned, 3)
    mine, theirs = _queues(in_process), _queues(on_dask)
    for name in mine:
        assert len(mine[name]) > 0, name
        pd.testing.assert_frame_equal(mine[name], theirs[name], check_exact=True, obj=name)
