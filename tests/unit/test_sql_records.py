"""Rows handed to the database driver: plain Python values, missing ones as None."""

from datetime import datetime

import numpy as np
import pandas as pd

from patronage.tasks.io.sql_upsert import records


def test_every_kind_of_column_becomes_plain_values():
    frame = pd.DataFrame(
        {
            "n": [1, 2],
            "x": [1.5, np.nan],
            "t": ["a", None],
            "at": pd.to_datetime(["2026-01-01 10:00", None]),
            "flag": [True, False],
            "s": pd.array(["p", pd.NA], dtype="string"),
            "i": pd.array([7, None], dtype="Int64"),
            "mixed": [np.int64(3), "s"],
        }
    )
    rows = records(frame)
    assert rows == [
        {"n": 1, "x": 1.5, "t": "a", "at": datetime(2026, 1, 1, 10), "flag": True, "s": "p",
         "i": 7, "mixed": 3},
        {"n": 2, "x": None, "t": None, "at": None, "flag": False, "s": None, "i": None,
         "mixed": "s"},
    ]  # fmt: skip
    assert [type(v) for v in rows[0].values()] == [int, float, str, datetime, bool, str, int, int]
    assert records(pd.DataFrame()) == []


def test_default_text_and_timestamps_become_plain_values_a_column_at_a_time():
    frame = pd.DataFrame(
        {
            "t": pd.array(["a", None, "c"], dtype="str"),
            "at": pd.to_datetime(["2026-01-01 00:00:00", None, "2026-01-03 04:05:06"]),
            "o": pd.Series(["x", pd.Timestamp("2026-02-01"), np.nan], dtype=object),
        }
    )
    assert records(frame) == [
        {"t": "a", "at": datetime(2026, 1, 1), "o": "x"},
        {"t": None, "at": None, "o": datetime(2026, 2, 1)},
        {"t": "c", "at": datetime(2026, 1, 3, 4, 5, 6), "o": None},
    ]
    assert type(records(frame)[1]["o"]) is datetime


def _table(name: str):
    from sqlalchemy import Boolean, Column, Date, DateTime, Float, Integer, MetaData, String, Table

    return Table(
        name,
        MetaData(),
        Column("k", String(8), primary_key=True),
        Column("day", Date),
        Column("at", DateTime),
        Column("x", Float),
        Column("n", Integer),
        Column("flag", Boolean),
        Column("t", String(8)),
    )


def test_upsert_frame_stores_what_upsert_stores_and_updates_on_conflict(tmp_path):
    from datetime import date

    from sqlalchemy import create_engine, text

    from patronage.tasks.io.sql_upsert import upsert, upsert_frame

    first = pd.DataFrame(
        {
            "k": ["a", "b", "c"],
            "day": [date(2026, 1, 2), None, date(2026, 3, 4)],
            "at": [pd.Timestamp("2026-01-01 10:00:00.5"), pd.NaT, pd.Timestamp("2026-02-01")],
            "x": [1.5, np.nan, -2.0],
            "n": [1, 2, 3],
            "flag": [True, False, True],
            "t": ["é", None, "z"],
        }
    )
    again = first.iloc[[2]].assign(x=9.0, t="new")
    engine = create_engine(f"sqlite:///{tmp_path / 'rows.db'}")
    by_rows, by_frame = _table("by_rows"), _table("by_frame")
    stored = {}
    with engine.begin() as conn:
        for table in (by_rows, by_frame):
            table.create(conn)
            for frame in (first, again):
                if table is by_rows:
                    upsert(conn, table, records(frame), ["k"], ["x", "t"])
                else:
                    upsert_frame(conn, table, frame, ["k"], ["x", "t"])
            stored[table.name] = conn.execute(text(f"SELECT * FROM {table.name} ORDER BY k")).all()
    # Byte for byte what SQLAlchemy's own path stores, the conflicting row updated.
    assert stored["by_frame"] == stored["by_rows"]
    assert stored["by_frame"] == [
        ("a", "2026-01-02", "2026-01-01 10:00:00.500000", 1.5, 1, 1, "é"),
        ("b", None, None, None, 2, 0, None),
        ("c", "2026-03-04", "2026-02-01 00:00:00.000000", 9.0, 3, 1, "new"),
    ]
