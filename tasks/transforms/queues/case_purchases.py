"""The latest purchases of customers with a retention case, for the case page's chart."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from patronage.tasks.transforms.membership import is_in

PURCHASE_COLUMNS = ["customer_id", "order_id", "ordered_at", "amount"]


def latest_purchases(
    orders: pd.DataFrame, customer_ids: Iterable[str], per_customer: int = 24
) -> pd.DataFrame:
    """Each listed customer's ``per_customer`` latest orders, oldest first.

    Args:
        orders: Valid orders (``order_id``, ``customer_id``, ``ordered_at``, ``amount``).
        customer_ids: Customers with a case tonight.
        per_customer: How many orders per customer the chart shows.

    Returns:
        ``PURCHASE_COLUMNS``, by customer then time.
    """
    wanted = orders[is_in(orders["customer_id"], set(customer_ids))]
    latest = (
        wanted.sort_values(["customer_id", "ordered_at", "order_id"], kind="stable")
        .groupby("customer_id", sort=True)
        .tail(per_customer)
    )
    return latest[PURCHASE_COLUMNS].reset_index(drop=True)
