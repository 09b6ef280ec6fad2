"""Probabilistic links kept between runs, so that a person keeps their identity."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection, select

from patronage.resources.database import PatronageDatabase
from patronage.schemas.tables import identity_links
from patronage.tasks.io.sql_upsert import upsert
from patronage.tasks.transforms.linking.probable_links import LINK_COLUMNS


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_identity_links(database: PatronageDatabase) -> pd.DataFrame:
    """Every link earlier runs made (an empty frame before the first publish)."""
    query = select(*(identity_links.c[c] for c in LINK_COLUMNS))
    return database.read_if_published(identity_links.name, query, LINK_COLUMNS)


def save_identity_links(conn: Connection, links: pd.DataFrame, run_id: str, now: datetime) -> None:
    """Insert new links and mark kept ones as seen by this run; the first run and the customer
    of a kept link never change."""
    rows = [
        {
            "identity_key": r.identity_key,
            "customer_id": r.customer_id,
            "method": r.method,
            "match_probability": float(r.match_probability),
            "first_run_id": run_id,
            "last_run_id": run_id,
            "linked_at": now,
        }
        for r in links[LINK_COLUMNS].itertuples(index=False)
    ]
    upsert(conn, identity_links, rows, ["identity_key"], ["last_run_id"])
