"""Manual identity decisions (must-link / cannot-link) that every run respects."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from prefect import task
from sqlalchemy import Engine, inspect, select

from patronage.database import database_exists, ensure_schema, load_database_password, make_engine
from schemas.tables import identity_overrides
from tasks.io.sql_upsert import upsert

OVERRIDE_COLUMNS = ["identity_key", "customer_id", "decision"]
DECISIONS = ("must_link", "cannot_link")


@task(retries=2, retry_delay_seconds=10)
def read_identity_overrides(database_url: str, database_password_secret: str | None) -> pd.DataFrame:
    """Every decision on record (an empty frame before the first publish)."""
    if not database_exists(database_url):
        return pd.DataFrame(columns=OVERRIDE_COLUMNS)
    engine = make_engine(database_url, load_database_password(database_password_secret))
    try:
        if not inspect(engine).has_table(identity_overrides.name):
            return pd.DataFrame(columns=OVERRIDE_COLUMNS)
        with engine.connect() as conn:
            return pd.read_sql(select(*(identity_overrides.c[c] for c in OVERRIDE_COLUMNS)), conn)
    finally:
        engine.dispose()


def record_identity_decision(engine: Engine, identity_key: str, customer_id: str, decision: str,
                             decided_by: str | None = None) -> None:
    """Store (or change) a decision; the next run links accordingly."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if ":" not in identity_key:
        raise ValueError(f"identity_key {identity_key!r} must look like 'email:…' or 'twitter:…'")
    ensure_schema(engine)
    with engine.begin() as conn:
        upsert(conn, identity_overrides, [{
            "identity_key": identity_key.lower(), "customer_id": customer_id, "decision": decision,
            "decided_by": decided_by, "decided_at": datetime.now(UTC).replace(tzinfo=None),
        }], ["identity_key", "customer_id"], ["decision", "decided_by", "decided_at"])
