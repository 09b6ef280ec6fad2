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


def test_validation_starts_work_waiting_on_the_conversations_before_it_returns(
    sample_company, tmp_path
):
    from datetime import date

    from patronage.tasks.io.sources import resolve_sources
    from patronage.tasks.stages.extract_datasets import extract_datasets
    from patronage.tasks.stages.read_conversations import CONVERSATION_DATASETS
    from patronage.tasks.stages.validate_datasets import WhenValid, validate_datasets

    from factories import nightly_params

    params = nightly_params(
        data_location=str(sample_company[0]), database_url=f"sqlite:///{tmp_path / 'p.db'}"
    )
    seen: list[dict[str, int]] = []
    waiting = WhenValid(
        CONVERSATION_DATASETS, lambda valid: seen.append({d: len(f) for d, f in valid.items()})
    )

    @flow
    def validate() -> dict[str, int]:
        database = params.database()
        extracted = extract_datasets(
            resolve_sources(params.sources, params.sources_file, params.data_location),
            database, False, None, "US",
        )  # fmt: skip
        thresholds = {name: params.reject_threshold(name) for name in extracted.raw}
        validated = validate_datasets(
            extracted, date(2026, 10, 31), database, thresholds, 3, None, True, [waiting]
        )
        return {d: len(validated.valid[d]) for d in CONVERSATION_DATASETS}

    valid_rows = validate()
    # Started by validation itself (never asked for its result), once, with exactly the
    # conversations' valid rows.
    assert seen == [valid_rows]
