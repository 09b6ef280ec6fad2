"""Incremental progress of sources: stored cursors/watermarks and rows already read."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection, select

from patronage.resources.database import PatronageDatabase
from patronage.schemas.contracts import CONTRACTS
from patronage.schemas.tables import source_rows, source_state
from patronage.tasks.io.sources import Extraction
from patronage.tasks.io.sql_upsert import upsert
from patronage.tasks.transforms.validation.storable_text import storable_record


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_source_progress(
    database: PatronageDatabase, datasets: list[str]
) -> tuple[dict[str, dict], dict[str, pd.DataFrame]]:
    """Stored state per source, and stored rows per dataset (text cells), for incremental merges."""
    if not datasets:  # only snapshot sources: nothing to resume, and no database to touch
        return {}, {}
    state_rows = database.read_if_published(
        source_state.name,
        select(
            source_state.c.source_name,
            source_state.c.cursor,
            source_state.c.watermark,
            source_state.c.quiet_runs,
            source_state.c.last_rows_at,
        ),
        ["source_name", "cursor", "watermark", "quiet_runs", "last_rows_at"],
    )
    states = {
        r.source_name: {
            "cursor": r.cursor,
            "watermark": r.watermark,
            "quiet_runs": int(r.quiet_runs or 0),
            "last_rows_at": None if pd.isna(r.last_rows_at) else pd.Timestamp(r.last_rows_at),
        }
        for r in state_rows.itertuples(index=False)
    }
    payloads = database.read_if_published(
        source_rows.name,
        select(source_rows.c.dataset, source_rows.c.payload)
        .where(source_rows.c.dataset.in_(datasets))
        .order_by(source_rows.c.dataset, source_rows.c.row_key),
        ["dataset", "payload"],
    )
    stored = {
        dataset: pd.DataFrame(
            [json.loads(p) for p in payloads.loc[payloads["dataset"] == dataset, "payload"]],
            dtype=object,
        )
        for dataset in datasets
    }
    get_run_logger().info(
        "Stored progress: %d source state(s), %s stored rows",
        len(states),
        {d: len(f) for d, f in stored.items()},
    )
    return states, stored


def merge_incremental(stored: pd.DataFrame | None, new: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """Stored rows updated by newly read ones (same key: the new one wins)."""
    frames = [f for f in (stored, new) if f is not None and len(f)]
    if not frames:
        return new
    merged = pd.concat(frames, ignore_index=True).fillna("")
    return merged.drop_duplicates(list(CONTRACTS[dataset].keys), keep="last").reset_index(drop=True)


def save_source_progress(
    conn: Connection, extractions: list[Extraction], run_id: str, now: datetime
) -> None:
    """Upsert incremental rows and advance each source's state (inside the publish transaction)."""
    for extraction in extractions:
        if not extraction.incremental:
            continue
        frame = extraction.frame
        if len(frame):
            keys = CONTRACTS[extraction.dataset].row_keys(frame)
            rows = [
                {
                    "dataset": extraction.dataset,
                    "row_key": key,
                    "source_name": extraction.source,
                    "payload": json.dumps(
                        storable_record(record), ensure_ascii=False, sort_keys=True
                    ),
                    "run_id": run_id,
                }
                for key, record in zip(keys, frame.to_dict("records"), strict=True)
            ]
            upsert(
                conn,
                source_rows,
                rows,
                ["dataset", "row_key"],
                ["source_name", "payload", "run_id"],
            )
        upsert(
            conn,
            source_state,
            [
                {
                    "source_name": extraction.source,
                    "cursor": extraction.state.get("cursor"),
                    "watermark": extraction.state.get("watermark"),
                    "run_id": run_id,
                    "updated_at": now,
                    "quiet_runs": extraction.quiet_runs,
                    "last_rows_at": now if len(extraction.frame) else extraction.last_rows_at,
                }
            ],
            ["source_name"],
            ["cursor", "watermark", "run_id", "updated_at", "quiet_runs", "last_rows_at"],
        )
