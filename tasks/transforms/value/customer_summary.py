"""Transaction summary: one row per customer with at least one order, as of a cut-off date."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

SUMMARY_COLUMNS = [
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "first_purchase",
    "last_purchase",
    "n_orders",
    "total_revenue",
    "typical_interval_days",
    "days_since_last",
]


def summarize_transactions(orders: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Summarise orders the way buy-till-you-die models expect them.

    Purchases are counted per calendar day (several orders on one day are one purchase
    occasion), as in Fader, Hardie & Lee (2005). Orders after ``as_of`` are ignored.

    Args:
        orders: Staged orders with ``customer_id``, ``ordered_at``, ``amount``.
        as_of: Cut-off date; ``T`` and ``days_since_last`` are measured to its end.

    Returns:
        One row per customer: ``frequency`` (repeat purchase days), ``recency`` (days from first
        to last purchase day), ``T`` (days from first purchase day to ``as_of``),
        ``monetary_value`` (mean spend per repeat purchase day, 0 without repeats),
        ``typical_interval_days`` (recency / frequency, null without repeats) and totals.
    """
    as_of_day = (pd.Timestamp(as_of) - pd.Timestamp(0)).days
    con = duckdb.connect()
    try:
        con.register("orders", orders[["customer_id", "ordered_at", "amount"]])
        # Days as integers since 1970-01-01: grouping on an integer is cheaper than on a DATE.
        # Money is summed as decimals (exact to a millionth; the contract caps an order at a
        # million): a float sum depends on the order rows arrive in, which differs between all
        # customers at once and a partition of them, and the Dask run must equal the local one.
        summary = con.execute(
            """
            WITH days AS (
                SELECT customer_id, CAST(floor(epoch(ordered_at) / 86400) AS INTEGER) AS day,
                       SUM(CAST(amount AS DECIMAL(18, 6))) AS spend, COUNT(*) AS n
                FROM orders
                WHERE ordered_at < ?
                GROUP BY 1, 2
            )
            SELECT customer_id,
                   COUNT(*) - 1 AS frequency,
                   MAX(day) - MIN(day) AS recency,
                   ? - MIN(day) AS "T",
                   -- repeat purchases only: everything after the first purchase day
                   COALESCE(
                       CAST(SUM(spend) - ARG_MIN(spend, day) AS DOUBLE) / NULLIF(COUNT(*) - 1, 0),
                       0
                   ) AS monetary_value,
                   MIN(day) AS first_purchase,
                   MAX(day) AS last_purchase,
                   SUM(n) AS n_orders,
                   CAST(SUM(spend) AS DOUBLE) AS total_revenue,
                   ? - MAX(day) AS days_since_last
            FROM days
            GROUP BY customer_id
            ORDER BY customer_id
            """,
            [pd.Timestamp(as_of) + pd.Timedelta(days=1), as_of_day, as_of_day],
        ).df()
    finally:
        con.close()
    summary["frequency"] = summary["frequency"].astype("int64")
    summary["n_orders"] = summary["n_orders"].astype("int64")
    for col in ("recency", "T", "days_since_last"):
        summary[col] = summary[col].astype("float64")
    summary["typical_interval_days"] = (summary["recency"] / summary["frequency"]).where(
        summary["frequency"] > 0
    )
    for col in ("first_purchase", "last_purchase"):
        summary[col] = pd.to_datetime(summary[col].astype("int64"), unit="D")
    return summary[SUMMARY_COLUMNS]
