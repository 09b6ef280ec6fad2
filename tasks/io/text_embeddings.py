"""Stored sentence vectors (``text_embeddings``): read before a night's text models run, and
the night's new vectors written after, so each text is encoded once per model."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from patronage.resources.database import PatronageDatabase, ensure_schema
from patronage.schemas.tables import text_embeddings
from patronage.tasks.io.sql_upsert import upsert


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_text_embeddings(database: PatronageDatabase, model_id: str) -> dict[bytes, np.ndarray]:
    """Every stored vector of ``model_id``, by text hash (empty before the first publish)."""
    query = select(text_embeddings.c.text_hash, text_embeddings.c.vector).where(
        text_embeddings.c.model_id == model_id
    )
    rows = database.read_if_published(text_embeddings.name, query, ["text_hash", "vector"])
    return {
        bytes.fromhex(h): np.frombuffer(v, dtype=np.float32)
        for h, v in zip(rows["text_hash"], rows["vector"], strict=True)
    }


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def store_text_embeddings(
    database: PatronageDatabase,
    model_id: str,
    vectors: dict[bytes, np.ndarray],
) -> int:
    """Insert vectors not stored yet (one transaction; a repeat inserts nothing). A cache, not
    published state: kept even if the run fails later, so the rerun need not encode again."""
    if not vectors:
        return 0
    with database.engine() as engine:
        ensure_schema(engine)
        now = datetime.now(UTC).replace(tzinfo=None)
        rows = [
            {
                "model_id": model_id,
                "text_hash": digest.hex(),
                "vector": np.asarray(v, dtype=np.float32).tobytes(),
                "created_at": now,
            }
            for digest, v in vectors.items()
        ]
        with engine.begin() as conn:
            upsert(conn, text_embeddings, rows, ["model_id", "text_hash"], None)
    get_run_logger().info("Stored %d new text vector(s) for %s", len(rows), model_id)
    return len(rows)
