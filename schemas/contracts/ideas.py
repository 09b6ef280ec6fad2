"""Ideas: one row per ideation-board entry, keyed by ``idea_id``."""

import great_expectations as gx

from patronage.schemas.contract import DatasetContract

IDEAS = DatasetContract(
    name="ideas",
    grain="one row per ideation-board entry",
    keys=("idea_id",),
    columns={
        "idea_id": "str",
        "author_email": "str",
        "author_handle": "str",
        "title": "str",
        "body": "str",
        "votes": "int",
        "created_at": "timestamp",
    },
    required=("idea_id", "title", "created_at"),
    build_expectations=lambda: [
        gx.expectations.ExpectColumnValuesToBeBetween(column="votes", min_value=0),
    ],
    timestamp_column="created_at",
)
