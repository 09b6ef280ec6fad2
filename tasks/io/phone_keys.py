"""Phone keys worked out on earlier nights (``contact_points``), for tonight's linking."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from patronage.resources.database import PatronageDatabase
from patronage.schemas.tables import contact_points


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_phone_keys(database: PatronageDatabase, phone_region: str) -> pd.Series:
    """The CRM's numbers as typed (index), with the ``phone:+E164`` key each gave in
    ``phone_region`` (``None``: not a valid number); empty before the first publish.

    A Series, not a dict: Prefect links a task's result to its state one level deep, which for
    a dict of a million numbers meant a million entries (6 s, and their memory).
    """
    rows = database.read_if_published(
        contact_points.name,
        select(contact_points.c.phone, contact_points.c.phone_key).where(
            contact_points.c.phone_region == phone_region, contact_points.c.phone.is_not(None)
        ),
        ["phone", "phone_key"],
    )
    keys = rows["phone_key"].astype(object)
    return pd.Series(
        keys.where(keys.notna(), None).to_numpy(dtype=object),
        index=pd.Index(rows["phone"].to_numpy(dtype=object), dtype=object),
        dtype=object,
    )
