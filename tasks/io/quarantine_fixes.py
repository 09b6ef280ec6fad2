"""Rows an operator fixed in quarantine, waiting to be validated again by the next run."""

from __future__ import annotations

import json

import pandas as pd
from prefect import task
from sqlalchemy import inspect, select

from patronage.database import database_exists, load_database_password, make_engine
from schemas.tables import quarantine

FIX_COLUMNS = ["quarantine_id", "dataset", "row_fingerprint", "row"]


@task(retries=2, retry_delay_seconds=10)
def read_quarantine_fixes(database_url: str, database_password_secret: str | None) -> pd.DataFrame:
    """Operator fixes (``fixed``, and ``released`` ones, which keep applying while the source
    still sends the row they replaced): one row per quarantine entry with its corrected row."""
    if not database_exists(database_url):
        return pd.DataFrame(columns=FIX_COLUMNS)
    engine = make_engine(database_url, load_database_password(database_password_secret))
    try:
        if not inspect(engine).has_table(quarantine.name):
            return pd.DataFrame(columns=FIX_COLUMNS)
        with engine.connect() as conn:
            rows = conn.execute(select(quarantine.c.id, quarantine.c.dataset,
                                       quarantine.c.row_fingerprint, quarantine.c.fixed_row)
                                .where(quarantine.c.status.in_(["fixed", "released"]),
                                       quarantine.c.fixed_row.is_not(None))
                                .order_by(quarantine.c.id)).all()
    finally:
        engine.dispose()
    return pd.DataFrame([{"quarantine_id": r.id, "dataset": r.dataset,
                          "row_fingerprint": r.row_fingerprint, "row": json.loads(r.fixed_row)}
                         for r in rows], columns=FIX_COLUMNS)
