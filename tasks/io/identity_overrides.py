"""Manual identity decisions (must-link / cannot-link) that every run respects."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine, select

from patronage.resources.database import PatronageDatabase, ensure_schema
from patronage.schemas.tables import identity_overrides
from patronage.tasks.io.sql_upsert import upsert

OVERRIDE_COLUMNS = ["identity_key", "customer_id", "decision"]
DECISIONS = ("must_link", "cannot_link")


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_identity_overrides(database: PatronageDatabase) -> pd.DataFrame:
    """Every decision on record (an empty frame before the first publish)."""
    query = select(*(identity_overrides.c[c] for c in OVERRIDE_COLUMNS))
    return database.read_if_published(identity_overrides.name, query, OVERRIDE_COLUMNS)


def record_identity_decision(
    engine: Engine,
    identity_key: str,
    customer_id: str,
    decision: str,
    decided_by: str | None = None,
) -> None:
    """Store (or change) a decision; the next run links accordingly."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if ":" not in identity_key:
        raise ValueError(f"identity_key {identity_key!r} must look like 'email:…' or 'twitter:…'")
    ensure_schema(engine)
    with engine.begin() as conn:
        upsert(
            conn,
            identity_overrides,
            [
                {
                    "identity_key": identity_key.lower(),
                    "customer_id": customer_id,
                    "decision": decision,
                    "decided_by": decided_by,
                    "decided_at": datetime.now(UTC).replace(tzinfo=None),
                }
            ],
            ["identity_key", "customer_id"],
            ["decision", "decided_by", "decided_at"],
        )
