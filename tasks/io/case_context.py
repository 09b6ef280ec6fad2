"""What the web page shows around a case, kept by every publish: each customer's score history,
the latest purchases of customers with a case, and identity links waiting for review."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import Connection, delete, exists, insert, select

from patronage.resources.sql_read import read_frame
from patronage.schemas.tables import (
    case_purchases,
    identity_candidates,
    score_history,
)
from patronage.tasks.io.sql_upsert import CHUNK, records, upsert_frame
from patronage.tasks.transforms.value.score_changes import HISTORY_COLUMNS, changed_scores


def save_score_history(
    conn: Connection, scores: pd.DataFrame, run_id: str, as_of: date, keep_days: int
) -> int:
    """Add a history row for each customer whose scores moved since the history's last point
    (``changed_scores``); drop rows older than ``keep_days``. Returns the rows added."""
    changed = changed_scores(scores, last_history_points(conn))
    upsert_frame(
        conn,
        score_history,
        changed.assign(as_of=as_of, run_id=run_id),
        ["customer_id", "as_of"],
        [c for c in HISTORY_COLUMNS if c != "customer_id"] + ["run_id"],
    )
    conn.execute(delete(score_history).where(score_history.c.as_of < as_of - timedelta(keep_days)))
    return len(changed)


def last_history_points(conn: Connection) -> pd.DataFrame:
    """Each customer's latest score history row (``HISTORY_COLUMNS``)."""
    # The rows no later row of the same customer follows: one pass over the primary key
    # (customer, as_of). On a million customers' SQLite history 2.0 s, where joining each row
    # back to its customer's max(as_of) took 3.1 s.
    later = score_history.alias("later")
    query = select(*(score_history.c[c] for c in HISTORY_COLUMNS)).where(
        ~exists().where(
            later.c.customer_id == score_history.c.customer_id,
            later.c.as_of > score_history.c.as_of,
        )
    )
    return read_frame(conn, query)


def replace_case_purchases(conn: Connection, purchases: pd.DataFrame) -> int:
    """Tonight's latest purchases of customers with a case replace last night's."""
    conn.execute(delete(case_purchases))
    rows = records(purchases[["customer_id", "order_id", "ordered_at", "amount"]])
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(case_purchases), rows[start : start + CHUNK])
    return len(rows)


def replace_identity_candidates(
    conn: Connection, candidates: pd.DataFrame, run_id: str, now: datetime
) -> int:
    """Tonight's near-miss links replace last night's (decided ones no longer come back: a
    must-link makes the author known, a cannot-link removes the pair)."""
    conn.execute(delete(identity_candidates))
    rows = records(
        candidates.reindex(columns=["identity_key", "customer_id", "match_probability", "compared"])
        .astype({"compared": object})
        .assign(run_id=run_id, found_at=now)
    )
    for start in range(0, len(rows), CHUNK):
        conn.execute(insert(identity_candidates), rows[start : start + CHUNK])
    return len(rows)
