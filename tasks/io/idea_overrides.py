"""People's idea merges and splits, which every run's clustering obeys."""

from __future__ import annotations

import pandas as pd
from prefect import task
from sqlalchemy import select

from patronage.database import read_if_published
from schemas.tables import idea_overrides
from tasks.transforms.ideation_queue import OVERRIDE_COLUMNS


@task(retries=2, retry_delay_seconds=10)
def read_idea_overrides(database_url: str, database_password_secret: str | None) -> pd.DataFrame:
    """Every merge and split on record (an empty frame before the first publish)."""
    query = select(*(idea_overrides.c[c] for c in OVERRIDE_COLUMNS))
    return read_if_published(
        database_url, database_password_secret, idea_overrides.name, query, OVERRIDE_COLUMNS
    )
