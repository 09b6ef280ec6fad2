"""Stages cut their work into partitions only where the partitions run apart (Dask)."""

from __future__ import annotations

from prefect import flow

from patronage.flows.task_runners import dask_task_runner
from patronage.tasks.stages.partitioning import partition_count, runs_apart


def test_outside_a_flow_all_rows_are_one_partition():
    assert (runs_apart(), partition_count(1_000_000, 250_000)) == (False, 1)


def test_on_the_default_thread_pool_all_rows_are_one_partition():
    @flow
    def counts() -> tuple[bool, int]:
        return runs_apart(), partition_count(1_000_000, 250_000)

    assert counts() == (False, 1)


def test_on_dask_the_rows_are_cut_by_partition_size():
    @flow
    def counts() -> list[int]:
        return [partition_count(rows, 250_000) for rows in (0, 1, 250_000, 250_001, 1_000_000)]

    runner = dask_task_runner(n_workers=1, threads_per_worker=1, processes=False)
    assert counts.with_options(task_runner=runner)() == [1, 1, 1, 2, 4]
