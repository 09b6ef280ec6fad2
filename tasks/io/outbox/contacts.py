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

# What a row holds besides its key, hash and time stamp.
_HELD = ["email", "language", "opted_out", "phone", "phone_region", "phone_key"]
# The CRM fields a row is made from (``contact_rows``).
_FROM = ["email", "language", "email_opt_out", "phone"]


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


def contact_hashes(customers: pd.DataFrame, phone_region: str) -> np.ndarray:
    """Per customer, a signed 64-bit hash of the CRM fields its contact point is made from
    (``contact_rows``) and of ``phone_region``: a customer whose hash is the one stored needs
    no new contact point."""
    fields = customers.reindex(columns=_FROM).astype("string").fillna("")
    hashed = pd.util.hash_pandas_object(fields.assign(phone_region=phone_region), index=False)
    return hashed.to_numpy().view(np.int64)


def upsert_contact_points(
    conn: Connection, customers: pd.DataFrame, phone_region: str, compare_all: bool = False
) -> int:
    """Bring the customers' contact points (the closed loop's addresses, and the phone keys the
    next night reuses) in line with tonight's CRM export: addresses change, customers leave the
    export. Only customers whose CRM fields changed are written, so a quiet night writes next to
    nothing; they are found by the hash of those fields (``contact_hashes``), so a night reads
    back one number per customer, not every stored address.

    Args:
        compare_all: Write every customer's contact point, as if none were stored (a full
            refresh).

    Returns:
        Rows written (inserted or changed).
    """
    ids = pd.Index(customers["customer_id"])
    if not ids.is_unique:  # the contract quarantines repeated ids; the last one would win
        customers = customers.drop_duplicates("customer_id", keep="last").reset_index(drop=True)
        ids = pd.Index(customers["customer_id"])
    hashes = contact_hashes(customers, phone_region)
    stored = read_frame(
        conn, select(contact_points.c.customer_id, contact_points.c.content_hash), object
    )
    # Where each stored customer is tonight (-1: no longer in the export).
    position = ids.get_indexer(stored["customer_id"])
    kept = position >= 0
    stale = stored.loc[~kept, "customer_id"]
    if len(stale):
        conn.execute(contact_points.delete().where(contact_points.c.customer_id.in_(sorted(stale))))
    changed = np.ones(len(customers), dtype=bool)  # new customers
    if not compare_all:
        was = stored["content_hash"].to_numpy()[kept]
        known = pd.notna(was)  # rows written before the hash was kept compare as changed
        same = known & (np.where(known, was, 0).astype(np.int64) == hashes[position[kept]])
        changed[position[kept]] = ~same
    rows = (
        contact_rows(customers[changed], phone_region)
        .assign(content_hash=hashes[changed], updated_at=_now())
        .to_dict("records")
    )
    if rows:
        upsert(conn, contact_points, rows, ["customer_id"], [*_HELD, "content_hash", "updated_at"])
    return len(rows)
