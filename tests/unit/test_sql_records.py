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
