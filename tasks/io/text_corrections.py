"""What people said conversations are not (from cases resolved as not_a_churn_threat / not_a_complaint)."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from patronage.resources.database import PatronageDatabase
from patronage.schemas.tables import text_corrections

CORRECTION_COLUMNS = ["conversation_id", "not_intent"]


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_text_corrections(database: PatronageDatabase) -> pd.DataFrame:
    """Every correction recorded so far (an empty frame before the first)."""
    query = select(*(text_corrections.c[c] for c in CORRECTION_COLUMNS))
    return database.read_if_published(text_corrections.name, query, CORRECTION_COLUMNS)
