"""Customers' contact points, rewritten from each night's CRM export."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select

from patronage.schemas.tables import (
    contact_points,
)
from patronage.tasks.io.outbox.common import _now
from patronage.tasks.io.sql_upsert import upsert


def upsert_contact_points(conn: Connection, customers: pd.DataFrame) -> int:
    """Rewrite the customers' contact points (the closed loop's addresses) from tonight's CRM
    export: addresses change, customers leave the export."""
    now = _now()
    frame = customers.rename(columns={"email_opt_out": "opted_out"}).reindex(
        columns=["customer_id", "email", "language", "opted_out"]
    )
    rows = [
        {
            "customer_id": r.customer_id,
            "email": r.email if isinstance(r.email, str) and r.email else None,
            "language": r.language if isinstance(r.language, str) and r.language else None,
            "opted_out": 1 if str(r.opted_out).lower() in ("1", "true", "yes") else 0,
            "updated_at": now,
        }
        for r in frame.itertuples(index=False)
    ]
    present = {r["customer_id"] for r in rows}
    stale = [
        c for c in conn.execute(select(contact_points.c.customer_id)).scalars() if c not in present
    ]
    if stale:
        conn.execute(contact_points.delete().where(contact_points.c.customer_id.in_(stale)))
    upsert(
        conn,
        contact_points,
        rows,
        ["customer_id"],
        ["email", "language", "opted_out", "updated_at"],
    )
    return len(rows)
