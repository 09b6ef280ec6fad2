"""Rows handed to the database driver: plain Python values, missing ones as None."""

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

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


def _rows() -> pd.DataFrame:
    """Three rows with every kind of column, one of them missing everything it can."""
    from datetime import date

    return pd.DataFrame(
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


def test_upsert_frame_stores_what_upsert_stores_and_updates_on_conflict(tmp_path):

    from sqlalchemy import create_engine, text

    from patronage.tasks.io.sql_upsert import upsert, upsert_frame

    first = _rows()
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


@pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_read_frame_reads_what_read_sql_reads(database_url):
    from datetime import date

    from sqlalchemy import select

    from patronage.resources.database import make_engine
    from patronage.resources.sql_read import read_frame
    from patronage.tasks.io.sql_upsert import upsert_frame

    table = _table("read_back")
    rows = _rows()
    engine = make_engine(database_url)
    with engine.begin() as conn:
        table.create(conn)
        upsert_frame(conn, table, rows, ["k"], None)
        query = select(*table.c, (table.c.n * 2).label("twice")).order_by(table.c.k)
        got = read_frame(conn, query)
        pd.testing.assert_frame_equal(got, pd.read_sql(query, conn))
        assert got["day"].tolist()[0] == date(2026, 1, 2)
        assert got["twice"].tolist() == [2, 4, 6]
        as_objects = read_frame(conn, query, dtype=object)  # the values as Python has them
        assert as_objects.iloc[1].tolist() == ["b", None, None, None, 2, False, None, 4]
        assert as_objects.iloc[0].tolist()[:3] == [
            "a",
            date(2026, 1, 2),
            datetime(2026, 1, 1, 10, 0, 0, 500000),
        ]
        empty = read_frame(conn, query.where(table.c.k == "none"))
        assert list(empty.columns) == [*table.c.keys(), "twice"] and empty.empty
    engine.dispose()


def test_upsert_frame_stores_each_rows_own_date_where_dates_repeat(tmp_path):
    from datetime import date

    from sqlalchemy import create_engine, text

    from patronage.tasks.io.sql_upsert import upsert_frame

    # The dates are formatted once each: every row must still get its own.
    frame = pd.DataFrame(
        {
            "k": ["a", "b", "c", "d", "e"],
            "day": [date(2026, 1, 2), None, date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 2)],
        }
    )
    engine = create_engine(f"sqlite:///{tmp_path / 'days.db'}")
    table = _table("days")
    with engine.begin() as conn:
        table.create(conn)
        upsert_frame(conn, table, frame, ["k"], ["day"])
        stored = conn.execute(text("SELECT k, day FROM days ORDER BY k")).all()
    assert stored == [
        ("a", "2026-01-02"),
        ("b", None),
        ("c", "2026-01-02"),
        ("d", "2026-01-03"),
        ("e", "2026-01-02"),
    ]
