"""People's idea merges and splits, which every run's clustering obeys."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from patronage.resources.database import PatronageDatabase
from patronage.schemas.tables import idea_overrides
from patronage.tasks.transforms.queues.ideation_queue import OVERRIDE_COLUMNS


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_idea_overrides(database: PatronageDatabase) -> pd.DataFrame:
    """Every merge and split on record (an empty frame before the first publish)."""
    query = select(*(idea_overrides.c[c] for c in OVERRIDE_COLUMNS))
    return database.read_if_published(idea_overrides.name, query, OVERRIDE_COLUMNS)
