"""Orders: one row per order, keyed by ``order_id``; every order belongs to a known customer."""

import great_expectations as gx

from patronage.schemas.contract import DatasetContract

ORDERS = DatasetContract(
    name="orders",
    grain="one row per order",
    keys=("order_id",),
    columns={"order_id": "str", "customer_id": "str", "ordered_at": "timestamp", "amount": "float"},
    required=("order_id", "customer_id", "ordered_at", "amount"),
    build_expectations=lambda: [
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="amount", min_value=0, max_value=1_000_000
        ),
    ],
    references={"customer_id": ("customers", "customer_id")},
    timestamp_column="ordered_at",
    freshness_days=30,
)
