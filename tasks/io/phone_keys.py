"""Phone keys worked out on earlier nights (``contact_points``), for tonight's linking."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from patronage.resources.database import PatronageDatabase
from patronage.schemas.tables import contact_points


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_phone_keys(database: PatronageDatabase, phone_region: str) -> dict[str, str | None]:
    """The CRM's numbers as typed, with the ``phone:+E164`` key each gave in ``phone_region``
    (``None``: not a valid number); empty before the first publish."""
    rows = database.read_if_published(
        contact_points.name,
        select(contact_points.c.phone, contact_points.c.phone_key).where(
            contact_points.c.phone_region == phone_region, contact_points.c.phone.is_not(None)
        ),
        ["phone", "phone_key"],
    )
    return {
        phone: key if isinstance(key, str) else None
        for phone, key in zip(rows["phone"], rows["phone_key"], strict=True)
    }
