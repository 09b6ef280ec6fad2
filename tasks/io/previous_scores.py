"""The previous run's published customer scores, which triggers compare against."""

from __future__ import annotations

import pandas as pd
from prefect import task
from sqlalchemy import select

from patronage.database import read_if_published
from schemas.tables import customer_scores
from tasks.transforms.retention_triggers import PREVIOUS_COLUMNS


@task(retries=2, retry_delay_seconds=10)
def read_previous_scores(database_url: str, database_password_secret: str | None) -> pd.DataFrame:
    """One row per customer scored before: ``p_alive`` and since when each trigger is active."""
    query = select(*(customer_scores.c[c] for c in PREVIOUS_COLUMNS))
    return read_if_published(
        database_url, database_password_secret, customer_scores.name, query, PREVIOUS_COLUMNS
    )
