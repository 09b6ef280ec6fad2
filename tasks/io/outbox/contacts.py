"""Customers' contact points, kept in step with each night's CRM export."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select

from patronage.schemas.tables import contact_points
from patronage.tasks.io.outbox.common import _now
from patronage.tasks.io.sql_upsert import upsert
from patronage.tasks.transforms.linking.identity import phone_key

# What a row holds besides its key and time stamp: a row is written only when one changed.
_HELD = ["email", "language", "opted_out", "phone", "phone_region", "phone_key"]


def contact_rows(customers: pd.DataFrame, phone_region: str) -> pd.DataFrame:
    """One row per customer as ``contact_points`` holds it (``None`` for what is missing)."""
    frame = customers.rename(columns={"email_opt_out": "opted_out"}).reindex(
        columns=["customer_id", "email", "language", "opted_out", "phone"]
    )

    def text(column: str) -> list[str | None]:
        return [v if isinstance(v, str) and v else None for v in frame[column]]

    phones = text("phone")
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "email": text("email"),
            "language": text("language"),
            "opted_out": frame["opted_out"]
            .astype(str)
            .str.lower()
            .isin(["1", "true", "yes"])
            .astype(int)
            .to_numpy(),
            "phone": phones,
            "phone_region": [phone_region if p else None for p in phones],
            # Worked out while linking (phone_key keeps them), so no number is parsed twice.
            "phone_key": [phone_key(p, phone_region) for p in phones],
        },
        dtype=object,
    )


def upsert_contact_points(conn: Connection, customers: pd.DataFrame, phone_region: str) -> int:
    """Bring the customers' contact points (the closed loop's addresses, and the phone keys the
    next night reuses) in line with tonight's CRM export: addresses change, customers leave the
    export. Only new and changed rows are written, so a quiet night writes next to nothing.

    Returns:
        Rows written (inserted or changed).
    """
    tonight = contact_rows(customers, phone_region)
    stored = pd.read_sql(
        select(contact_points.c.customer_id, *(contact_points.c[c] for c in _HELD)),
        conn,
        dtype=object,
    )
    stale = sorted(set(stored["customer_id"]) - set(tonight["customer_id"]))
    if stale:
        conn.execute(contact_points.delete().where(contact_points.c.customer_id.in_(stale)))
    both = tonight.merge(stored, on="customer_id", how="left", suffixes=("", "_stored"),
                         indicator=True)  # fmt: skip
    changed = both["_merge"] == "left_only"
    for column in _HELD:
        now, before = both[column], both[f"{column}_stored"]
        same = (now == before) | (now.isna() & before.isna())
        if column == "opted_out":
            same = now.astype(int) == pd.to_numeric(before, errors="coerce").fillna(-1)
        changed |= ~same
    rows = tonight[changed.to_numpy()].assign(updated_at=_now()).to_dict("records")
    if rows:
        upsert(conn, contact_points, rows, ["customer_id"], [*_HELD, "updated_at"])
    return len(rows)
