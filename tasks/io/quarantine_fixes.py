"""Rows an operator fixed in quarantine, waiting to be validated again by the next run."""

from __future__ import annotations

import json

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from patronage.resources.database import PatronageDatabase
from patronage.schemas.tables import quarantine

FIX_COLUMNS = ["quarantine_id", "dataset", "row_fingerprint", "row"]


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_quarantine_fixes(database: PatronageDatabase) -> pd.DataFrame:
    """Operator fixes (``fixed``, and ``released`` ones, which keep applying while the source
    still sends the row they replaced): one row per quarantine entry with its corrected row."""
    query = (
        select(
            quarantine.c.id,
            quarantine.c.dataset,
            quarantine.c.row_fingerprint,
            quarantine.c.fixed_row,
        )
        .where(quarantine.c.status.in_(["fixed", "released"]), quarantine.c.fixed_row.is_not(None))
        .order_by(quarantine.c.id)
    )
    rows = database.read_if_published(
        quarantine.name,
        query,
        ["id", "dataset", "row_fingerprint", "fixed_row"],
    )
    return pd.DataFrame(
        {
            "quarantine_id": rows["id"].astype("int64"),
            "dataset": rows["dataset"],
            "row_fingerprint": rows["row_fingerprint"],
            "row": [json.loads(r) for r in rows["fixed_row"]],
        },
        columns=FIX_COLUMNS,
    )
