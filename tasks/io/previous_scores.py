"""The previous run's published customer scores, which triggers compare against."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from patronage.resources.database import PatronageDatabase
from patronage.schemas.tables import customer_scores
from patronage.tasks.transforms.value.retention_triggers import PREVIOUS_COLUMNS


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_previous_scores(database: PatronageDatabase) -> pd.DataFrame:
    """One row per customer scored before: ``p_alive`` and since when each trigger is active."""
    query = select(*(customer_scores.c[c] for c in PREVIOUS_COLUMNS))
    return database.read_if_published(customer_scores.name, query, PREVIOUS_COLUMNS)
