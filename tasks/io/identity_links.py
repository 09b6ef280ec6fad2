"""Probabilistic links kept between runs, so that a person keeps their identity, and what
record linkage remembers to compare only what is new."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection, delete, select

from patronage.resources.database import PatronageDatabase
from patronage.schemas.tables import identity_candidates, identity_links, record_linkage_state
from patronage.tasks.io.sql_upsert import upsert
from patronage.tasks.transforms.linking.probable_links import LINK_COLUMNS, ProfileLinking
from patronage.tasks.transforms.linking.record_linkage import LinkModel

PROFILE_MODEL = "author_profiles"


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_identity_links(database: PatronageDatabase) -> pd.DataFrame:
    """Every link earlier runs made (an empty frame before the first publish)."""
    query = select(*(identity_links.c[c] for c in LINK_COLUMNS))
    return database.read_if_published(identity_links.name, query, LINK_COLUMNS)


def save_identity_links(conn: Connection, links: pd.DataFrame, run_id: str, now: datetime) -> None:
    """Insert new links and mark kept ones as seen by this run; the first run and the customer
    of a kept link never change."""
    rows = [
        {
            "identity_key": r.identity_key,
            "customer_id": r.customer_id,
            "method": r.method,
            "match_probability": float(r.match_probability),
            "first_run_id": run_id,
            "last_run_id": run_id,
            "linked_at": now,
        }
        for r in links[LINK_COLUMNS].itertuples(index=False)
    ]
    upsert(conn, identity_links, rows, ["identity_key"], ["last_run_id"])


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_identity_candidates(database: PatronageDatabase) -> pd.DataFrame:
    """The near misses the last night published and no one has decided on yet."""
    columns = ["identity_key", "customer_id", "match_probability"]
    query = select(*(identity_candidates.c[c] for c in columns))
    return database.read_if_published(identity_candidates.name, query, columns)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_profile_linking(database: PatronageDatabase) -> ProfileLinking | None:
    """Record linkage's memory from the last published night (None before the first)."""
    columns = [c.name for c in record_linkage_state.c if c.name not in ("run_id", "updated_at")]
    query = select(*(record_linkage_state.c[c] for c in columns)).where(
        record_linkage_state.c.name == PROFILE_MODEL
    )
    rows = database.read_if_published(record_linkage_state.name, query, columns)
    if rows.empty:
        return None
    row = rows.iloc[0]
    return ProfileLinking(
        LinkModel.from_json(row["model"]),
        row["spec"],
        pd.Timestamp(row["trained_as_of"]).date(),
        int(row["trained_profiles"]),
        row["compared_under"],
        np.frombuffer(row["customers"], dtype=np.uint64),
        np.frombuffer(row["authors"], dtype=np.uint64),
    )


def save_profile_linking(
    conn: Connection, memory: ProfileLinking | None, run_id: str, now: datetime
) -> None:
    """Replace the stored memory with tonight's (inside the publish transaction, so it always
    matches the links and near misses published with it); None forgets it."""
    conn.execute(delete(record_linkage_state).where(record_linkage_state.c.name == PROFILE_MODEL))
    if memory is None:
        return
    conn.execute(
        record_linkage_state.insert().values(
            name=PROFILE_MODEL,
            spec=memory.spec,
            model=memory.model.to_json(),
            trained_as_of=memory.trained_as_of,
            trained_profiles=memory.trained_profiles,
            compared_under=memory.compared_under,
            customers=np.ascontiguousarray(memory.customers, dtype=np.uint64).tobytes(),
            authors=np.ascontiguousarray(memory.authors, dtype=np.uint64).tobytes(),
            run_id=run_id,
            updated_at=now,
        )
    )
