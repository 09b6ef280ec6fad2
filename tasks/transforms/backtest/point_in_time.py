"""The company's validated data as it was at a past cut-off: nothing from after it.

Grain: the same as each input dataset. Event datasets keep rows whose contract timestamp falls
on or before the cut-off day; snapshot fields are rolled back where the export tells how.

What cannot be rolled back (stated in the backtest's report):
- CRM fields are a snapshot of export day (``account_owner``, contact details): they only
  route cases and link identities, they do not change the ranking;
- a ticket's ``status`` is as of export: a ticket solved *after* the cut-off is put back to
  ``open`` (its ``updated_at`` is later than the cut-off), but one reopened later cannot be told;
- identity links learnt by later nights are not used: the backtest links from scratch.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from patronage.schemas.contracts import CONTRACTS
from patronage.tasks.transforms.membership import is_in

CLOSED_STATUSES = ("solved", "closed")


def as_of_cut(valid: dict[str, pd.DataFrame], as_of: date) -> dict[str, pd.DataFrame]:
    """Each dataset as it stood at the end of ``as_of``.

    Args:
        valid: Validated datasets by name (typed timestamps).
        as_of: The cut-off day (inclusive).
    """
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    out: dict[str, pd.DataFrame] = {}
    for name, frame in valid.items():
        column = CONTRACTS[name].timestamp_column if name in CONTRACTS else None
        out[name] = frame[frame[column] < end].copy() if column else frame.copy()
    tickets = out.get("tickets")
    if tickets is not None and "updated_at" in tickets:
        solved_later = tickets["status"].isin(CLOSED_STATUSES) & (tickets["updated_at"] >= end)
        tickets.loc[solved_later, "status"] = "open"
        tickets.loc[solved_later, "updated_at"] = pd.NaT
    if "customers" in out and "orders" in out:
        # A CRM row for someone who had not signed up or bought yet did not exist then.
        buyers = set(out["orders"]["customer_id"])
        customers = out["customers"]
        keep = is_in(customers["customer_id"], buyers)
        if "signup_date" in customers:
            signed = pd.to_datetime(customers["signup_date"], errors="coerce")
            keep |= signed.notna() & (signed < end)
        out["customers"] = customers[keep].copy()
    return out
