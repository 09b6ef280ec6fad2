"""Stored sentence vectors (``text_embeddings``): read before a night's text models run, and
the night's new vectors written after, so each text is encoded once per model."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import bindparam, select, update

from patronage.resources.database import PatronageDatabase, ensure_schema
from patronage.schemas.tables import text_embeddings
from patronage.tasks.io.sql_upsert import upsert


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_text_embeddings(
    database: PatronageDatabase, model_id: str
) -> tuple[dict[bytes, np.ndarray], dict[bytes, str]]:
    """Every stored vector of ``model_id`` and every stored language, by text hash (both empty
    before the first publish)."""
    query = select(
        text_embeddings.c.text_hash, text_embeddings.c.vector, text_embeddings.c.language
    ).where(text_embeddings.c.model_id == model_id)
    rows = database.read_if_published(
        text_embeddings.name, query, ["text_hash", "vector", "language"]
    )
    digests = [bytes.fromhex(h) for h in rows["text_hash"]]
    vectors = {
        d: np.frombuffer(v, dtype=np.float32) for d, v in zip(digests, rows["vector"], strict=True)
    }
    languages = {
        d: language
        for d, language in zip(digests, rows["language"], strict=True)
        if isinstance(language, str)
    }
    return vectors, languages


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def store_text_embeddings(
    database: PatronageDatabase,
    model_id: str,
    vectors: dict[bytes, np.ndarray],
    languages: dict[bytes, str] | None = None,
) -> int:
    """Insert vectors not stored yet, with their texts' languages, and fill in the language of
    stored vectors that had none (one transaction; a repeat inserts nothing). A cache, not
    published state: kept even if the run fails later, so the rerun need not encode again."""
    languages = languages or {}
    if not vectors and not languages:
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
                "language": languages.get(digest),
            }
            for digest, v in vectors.items()
        ]
        filled = [
            {"h": digest.hex(), "language": language}
            for digest, language in languages.items()
            if digest not in vectors
        ]
        with engine.begin() as conn:
            if rows:
                upsert(conn, text_embeddings, rows, ["model_id", "text_hash"], None)
            if filled:
                conn.execute(
                    update(text_embeddings)
                    .where(
                        text_embeddings.c.model_id == model_id,
                        text_embeddings.c.text_hash == bindparam("h"),
                        text_embeddings.c.language.is_(None),
                    )
                    .values(language=bindparam("language")),
                    filled,
                )
    get_run_logger().info("Stored %d new text vector(s) for %s", len(rows), model_id)
    return len(rows)
