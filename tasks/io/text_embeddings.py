"""Stored sentence vectors (``text_embeddings``): read before a night's text models run, and
the night's new vectors written after, so each text is encoded once per model."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import ColumnElement, Connection, bindparam, select, update

from patronage.resources.database import PatronageDatabase, ensure_schema
from patronage.schemas.tables import text_embeddings
from patronage.tasks.io.sql_upsert import upsert

READING_COLUMNS = ["reading_model", "intent", "intent_confidence", "sentiment", "sentiment_label"]


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_text_embeddings(
    database: PatronageDatabase, model_id: str
) -> tuple[dict[bytes, np.ndarray], dict[bytes, str], dict[bytes, tuple]]:
    """Every stored vector of ``model_id``, every stored language and every stored reading,
    by text hash (all empty before the first publish). A reading is ``(reading_model,
    intent, intent_confidence, sentiment, sentiment_label)``: which text model made it first."""
    columns = ["text_hash", "vector", "language", *READING_COLUMNS]
    query = select(*(text_embeddings.c[c] for c in columns)).where(
        text_embeddings.c.model_id == model_id
    )
    rows = database.read_if_published(text_embeddings.name, query, columns)
    digests = [bytes.fromhex(h) for h in rows["text_hash"]]
    vectors = {
        d: np.frombuffer(v, dtype=np.float32) for d, v in zip(digests, rows["vector"], strict=True)
    }
    languages = {
        d: language
        for d, language in zip(digests, rows["language"], strict=True)
        if isinstance(language, str)
    }
    readings = {
        d: reading
        for d, reading in zip(
            digests, zip(*(rows[c] for c in READING_COLUMNS), strict=True), strict=True
        )
        if isinstance(reading[0], str)
    }
    return vectors, languages, readings


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def store_text_embeddings(
    database: PatronageDatabase,
    model_id: str,
    vectors: dict[bytes, np.ndarray],
    languages: dict[bytes, str] | None = None,
    readings: pd.DataFrame | None = None,
    reading_model: str | None = None,
) -> int:
    """Insert vectors not stored yet, with their texts' languages and readings; fill in the
    language of stored vectors that had none, and their reading where the text model
    ``reading_model`` read them tonight (one transaction; a repeat inserts nothing).
    ``readings``: ``intent``, ``intent_confidence``, ``sentiment``, ``sentiment_label``
    by text hash (a frame: Prefect walks a dict parameter item by item). A cache,
    not published state: kept even if the run fails later, so the rerun need not read again."""
    languages = languages or {}
    readings = {
        digest: tuple(reading)
        for digest, *reading in (readings if readings is not None else pd.DataFrame())
        .reindex(columns=READING_COLUMNS[1:])
        .itertuples(name=None)
    }
    if not vectors and not languages and not readings:
        return 0
    with database.engine() as engine:
        ensure_schema(engine)
        now = datetime.now(UTC).replace(tzinfo=None)
        no_reading = (None, None, None, None)
        rows = [
            {
                "model_id": model_id,
                "text_hash": digest.hex(),
                "vector": np.asarray(v, dtype=np.float32).tobytes(),
                "created_at": now,
                "language": languages.get(digest),
                "reading_model": reading_model if digest in readings else None,
                **dict(zip(READING_COLUMNS[1:], readings.get(digest, no_reading), strict=True)),
            }
            for digest, v in vectors.items()
        ]
        filled = {d: {"language": language} for d, language in languages.items()}
        read = {
            d: {"reading_model": reading_model, **dict(zip(READING_COLUMNS[1:], r, strict=True))}
            for d, r in readings.items()
        }
        with engine.begin() as conn:
            if rows:
                upsert(conn, text_embeddings, rows, ["model_id", "text_hash"], None)
            # A stored vector's language only where it had none; its reading in any case.
            _update_stored(conn, model_id, filled, vectors, text_embeddings.c.language.is_(None))
            _update_stored(conn, model_id, read, vectors)
    get_run_logger().info(
        "Stored %d new text vector(s) for %s, %d reading(s)", len(rows), model_id, len(readings)
    )
    return len(rows)


def _update_stored(
    conn: Connection,
    model_id: str,
    values: dict[bytes, dict[str, object]],
    inserted: dict[bytes, np.ndarray],
    *where: ColumnElement[bool],
) -> None:
    """Set ``values`` (by text hash, the same columns for each) on stored rows of ``model_id``,
    leaving out the rows inserted just now with them."""
    params = [
        # Bound under other names: SQLAlchemy keeps a column's own name for the SET clause.
        {"h": digest.hex(), **{f"v_{c}": v for c, v in columns.items()}}
        for digest, columns in values.items()
        if digest not in inserted
    ]
    if not params:
        return
    columns = next(iter(values.values()))
    conn.execute(
        update(text_embeddings)
        .where(
            text_embeddings.c.model_id == model_id,
            text_embeddings.c.text_hash == bindparam("h"),
            *where,
        )
        .values(**{c: bindparam(f"v_{c}") for c in columns}),
        params,
    )
