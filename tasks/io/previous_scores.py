"""The previous run's published customer scores, which triggers compare against."""

from __future__ import annotations

import pandas as pd
from prefect import task
from sqlalchemy import inspect, select

from patronage.database import database_exists, load_database_password, make_engine
from schemas.tables import customer_scores
from tasks.transforms.retention_triggers import PREVIOUS_COLUMNS


@task(retries=2, retry_delay_seconds=10)
def read_previous_scores(database_url: str, database_password_secret: str | None) -> pd.DataFrame:
    """One row per customer scored before: ``p_alive`` and since when each trigger is active."""
    if not database_exists(database_url):
        return pd.DataFrame(columns=PREVIOUS_COLUMNS)
    engine = make_engine(database_url, load_database_password(database_password_secret))
    try:
        if not inspect(engine).has_table(customer_scores.name):
            return pd.DataFrame(columns=PREVIOUS_COLUMNS)
        with engine.connect() as conn:
            return pd.read_sql(select(*(customer_scores.c[c] for c in PREVIOUS_COLUMNS)), conn)
    finally:
        engine.dispose()
