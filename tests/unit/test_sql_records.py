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
