"""The text store on SQLite and PostgreSQL: a night's new vectors are inserted with their
languages and readings, a stored vector gets its language only where it had none and its
reading whenever tonight's model read it, and what is read back is what was written."""

from __future__ import annotations

import numpy as np
import pandas as pd

from patronage.resources.database import PatronageDatabase
from patronage.tasks.io.text_embeddings import read_text_embeddings, store_text_embeddings

COLUMNS = ["intent", "intent_confidence", "sentiment", "sentiment_label"]


def _readings(rows: dict[bytes, tuple]) -> pd.DataFrame:
    return pd.DataFrame(list(rows.values()), columns=COLUMNS, index=list(rows))


def test_vectors_languages_and_readings_are_stored_and_read_back(database_url):
    database = PatronageDatabase(url=database_url)
    first, second, third = b"\x01" * 16, b"\x02" * 16, b"\x03" * 16
    vector = np.array([0.6, 0.8], dtype=np.float32)
    churn = ("churn_threat", 0.9123, -0.5, "negative")
    store_text_embeddings(
        database, "enc", {first: vector, second: vector}, {first: "de"},
        _readings({first: churn}), "model-a",
    )  # fmt: skip
    # The next night: a new text; the second text gets a language and a reading; the first
    # text's language is not overwritten, its reading by another model is.
    praise = ("praise", 0.75, 0.25, "positive")
    store_text_embeddings(
        database, "enc", {third: vector}, {first: "fr", second: "en", third: "en"},
        _readings({first: praise, second: praise, third: praise}), "model-b",
    )  # fmt: skip
    vectors, languages, readings = read_text_embeddings.fn(database, "enc")
    assert {d: v.tolist() for d, v in vectors.items()} == {
        d: [vector[0].item(), vector[1].item()] for d in (first, second, third)
    }
    assert languages == {first: "de", second: "en", third: "en"}
    assert readings == {d: ("model-b", *praise) for d in (first, second, third)}
    assert read_text_embeddings.fn(database, "another encoder") == ({}, {}, {})
