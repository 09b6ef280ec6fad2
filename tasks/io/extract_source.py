"""Extract one configured source (a Prefect task per source, retried on failure)."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from patronage.tasks.io.sources import Extraction, SourceConfig, SourceError


def _not_a_source_error(_task, _task_run, state) -> bool:
    """Retry in one layer only: a ``SourceError`` is final (a 4xx, or HTTP retries with backoff
    already exhausted), so the task retries only what nothing below it retried."""
    return not isinstance(state.data, SourceError)


@task(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=_not_a_source_error,
    task_run_name="extract-{source.name}",
)
def extract_source(
    source: SourceConfig, state: dict[str, str | None], full_refresh: bool
) -> Extraction:
    """Read what the source has for us; a retry starts again from the stored state.

    Rows are keyed, so reading a page twice never duplicates anything downstream.
    """
    logger = get_run_logger()
    extraction = source.extract(state, full_refresh)
    for warning in extraction.warnings:
        logger.warning(warning)
    logger.info(
        "%s → %s: %d rows (%s), %d unknown field occurrence(s) ignored",
        source.name,
        source.dataset,
        len(extraction.frame),
        "incremental" if extraction.incremental else "snapshot",
        sum(extraction.unknown_fields.values()),
    )
    return extraction
