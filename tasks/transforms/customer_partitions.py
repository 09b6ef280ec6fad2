"""Partitions of customers: every row about one customer, in whichever dataset, falls in the
same partition, so work per customer (summaries, scores, triggers) runs on each partition
apart and the partitions' results are concatenated."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd


def split_by_customer(
    frame: pd.DataFrame, partitions: int, column: str = "customer_id"
) -> list[pd.DataFrame]:
    """``frame`` in ``partitions`` parts by a hash of ``column``; rows keep their order.

    DuckDB hashes the ids (in parallel, whatever pandas type holds them); the parts are
    row selections of ``frame``, so they keep its columns' types. A row with no customer
    falls in the first part.
    """
    if partitions <= 1:
        return [frame]
    con = duckdb.connect()
    try:
        con.register("frame", frame[[column]])
        part = (
            con.execute(
                f'SELECT CASE WHEN "{column}" IS NULL THEN 0 ELSE hash("{column}") % ? END AS part '
                "FROM frame",  # noqa: S608 - the column is ours, not input
                [partitions],
            )
            .fetchnumpy()["part"]
            .astype(np.int64)
        )
    finally:
        con.close()
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(partitions + 1))
    return [
        frame.take(order[bounds[i] : bounds[i + 1]]).reset_index(drop=True)
        for i in range(partitions)
    ]
