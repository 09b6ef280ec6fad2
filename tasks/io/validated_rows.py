"""Content hashes of rows that passed their contracts on the last published night: rows that
arrive unchanged skip the row-level expectations (``validate_dataset(known_valid=...)``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import delete, select

from patronage.resources.database import PatronageDatabase, ensure_schema
from patronage.schemas.tables import validated_rows


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_validated_rows(
    database: PatronageDatabase, versions: dict[str, str], hash_version: str, as_of: date
) -> dict[str, np.ndarray]:
    """Per dataset, the stored hashes that still hold tonight: same contract and validation
    logic (``versions``), same hashing, and validated for a night no later than ``as_of`` (a
    rerun of an earlier night validates everything: a row's time stamps may be in its future).
    """
    query = select(
        validated_rows.c.dataset,
        validated_rows.c.validation_version,
        validated_rows.c.hash_version,
        validated_rows.c.as_of,
        validated_rows.c.row_hashes,
    )
    rows = database.read_if_published(
        validated_rows.name,
        query,
        ["dataset", "validation_version", "hash_version", "as_of", "row_hashes"],
    )
    out = {
        r.dataset: np.frombuffer(r.row_hashes, dtype=np.uint64)
        for r in rows.itertuples(index=False)
        if versions.get(r.dataset) == r.validation_version
        and r.hash_version == hash_version
        and pd.Timestamp(r.as_of).date() <= as_of
    }
    get_run_logger().info(
        "Rows validated before, per dataset: %s", {d: len(h) for d, h in out.items()}
    )
    return out


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def store_validated_rows(
    database: PatronageDatabase,
    hashes: dict[str, np.ndarray],
    versions: dict[str, str],
    hash_version: str,
    as_of: date,
    run_id: str,
) -> int:
    """Replace each dataset's stored hashes with tonight's (one transaction). A cache: kept
    even when a later step fails, since a row's validity does not depend on the publish."""
    if not hashes:
        return 0
    now = datetime.now(UTC).replace(tzinfo=None)
    with database.engine() as engine:
        ensure_schema(engine)
        with engine.begin() as conn:
            conn.execute(delete(validated_rows).where(validated_rows.c.dataset.in_(list(hashes))))
            conn.execute(
                validated_rows.insert(),
                [
                    {
                        "dataset": dataset,
                        "validation_version": versions[dataset],
                        "hash_version": hash_version,
                        "as_of": as_of,
                        "row_count": len(values),
                        "row_hashes": np.ascontiguousarray(values, dtype=np.uint64).tobytes(),
                        "run_id": run_id,
                        "updated_at": now,
                    }
                    for dataset, values in hashes.items()
                ],
            )
    return sum(len(v) for v in hashes.values())
