"""Customers' contact points, kept in step with each night's CRM export."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from patronage.resources.sql_read import read_frame
from patronage.schemas.tables import contact_points
from patronage.tasks.io.outbox.common import _now
from patronage.tasks.io.sql_upsert import upsert
from patronage.tasks.transforms.linking.identity import phone_key

# What a row holds besides its key and time stamp: a row is written only when one changed.
_HELD = ["email", "language", "opted_out", "phone", "phone_region", "phone_key"]


def _present(values: pd.Series) -> np.ndarray:
    """The column as objects, ``None`` where a value is missing or empty."""
    cells = values.to_numpy(dtype=object, na_value=None)
    return np.where(pd.notna(cells) & (cells != ""), cells, None)


def contact_rows(customers: pd.DataFrame, phone_region: str) -> pd.DataFrame:
    """One row per customer as ``contact_points`` holds it (``None`` for what is missing)."""
    frame = customers.rename(columns={"email_opt_out": "opted_out"}).reindex(
        columns=["customer_id", "email", "language", "opted_out", "phone"]
    )
    phones = _present(frame["phone"])
    has_phone = pd.notna(phones)
    # Each distinct number once: worked out while linking (phone_key keeps them), so no number
    # is parsed twice.
    keys = {p: phone_key(p, phone_region) for p in pd.unique(phones[has_phone])}
    return pd.DataFrame(
        {
            "customer_id": frame["customer_id"].to_numpy(),
            "email": _present(frame["email"]),
            "language": _present(frame["language"]),
            "opted_out": frame["opted_out"]
            .astype(str)
            .str.lower()
            .isin(["1", "true", "yes"])
            .astype(int)
            .to_numpy(),
            "phone": phones,
            "phone_region": np.where(has_phone, phone_region, None),
            "phone_key": np.array([keys.get(p) for p in phones], dtype=object),
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
    stored = read_frame(
        conn, select(contact_points.c.customer_id, *(contact_points.c[c] for c in _HELD)), object
    )
    ids = pd.Index(tonight["customer_id"])
    if not ids.is_unique:  # the contract quarantines repeated ids; the last one would win
        tonight = tonight.drop_duplicates("customer_id", keep="last").reset_index(drop=True)
        ids = pd.Index(tonight["customer_id"])
    # Where each stored customer is tonight (-1: no longer in the export).
    position = ids.get_indexer(stored["customer_id"])
    kept = position >= 0
    stale = stored.loc[~kept, "customer_id"]
    if len(stale):
        conn.execute(contact_points.delete().where(contact_points.c.customer_id.in_(sorted(stale))))
    changed = np.ones(len(tonight), dtype=bool)  # new customers
    changed[position[kept]] = False
    for column in _HELD:
        now = tonight[column].to_numpy()
        was = np.full(len(tonight), None, dtype=object)
        was[position[kept]] = stored[column].to_numpy()[kept]
        if column == "opted_out":
            same = now.astype(int) == np.nan_to_num(
                pd.to_numeric(was, errors="coerce").astype(float), nan=-1
            )
        else:
            same = (now == was) | (pd.isna(now) & pd.isna(was))
        changed |= ~same
    rows = tonight[changed].assign(updated_at=_now()).to_dict("records")
    if rows:
        upsert(conn, contact_points, rows, ["customer_id"], [*_HELD, "updated_at"])
    return len(rows)
