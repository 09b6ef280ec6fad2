"""``sort_stable``: pandas' stable sort, by Arrow."""

import pandas as pd

from patronage.tasks.transforms.sorting import sort_stable


def test_same_order_as_pandas_with_ties_missing_values_and_accents():
    frame = pd.DataFrame(
        {
            "thread_id": ["b", "a", None, "é", "Z", "a", "a"],
            "occurred_at": pd.to_datetime(
                [
                    "2026-01-02",
                    "2026-01-03",
                    "2026-01-01",
                    None,
                    "2026-01-01",
                    "2026-01-03",
                    "2026-01-01",
                ]  # fmt: skip
            ),
            "conversation_id": ["c1", "c3", "c0", "c9", "c5", "c2", "c7"],
        },
        index=[10, 11, 12, 13, 14, 15, 16],
    )
    keys = ["thread_id", "occurred_at", "conversation_id"]
    assert sort_stable(frame, keys).index.tolist() == [14, 16, 15, 11, 10, 13, 12]
    assert sort_stable(frame, keys).index.tolist() == (
        frame.sort_values(keys, kind="stable").index.tolist()
    )
    # Equal keys keep their order (stable).
    assert sort_stable(frame, ["occurred_at"]).index.tolist() == [12, 14, 16, 10, 11, 15, 13]


def test_a_column_arrow_cannot_sort_is_sorted_by_pandas():
    frame = pd.DataFrame({"k": [[2, 1], [1, 9], [2, 0]]}, index=[7, 8, 9])  # Arrow: list type
    assert sort_stable(frame, ["k"]).index.tolist() == [8, 9, 7]
