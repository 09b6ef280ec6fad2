"""Ticket comments: one row per comment, keyed by ``comment_id``; each belongs to a ticket."""

import great_expectations as gx

from patronage.schemas.contract import DatasetContract

TICKET_COMMENTS = DatasetContract(
    name="ticket_comments",
    grain="one row per ticket comment",
    keys=("comment_id",),
    columns={
        "comment_id": "str",
        "ticket_id": "str",
        "author_type": "str",
        "body": "str",
        "created_at": "timestamp",
    },
    required=("comment_id", "ticket_id", "author_type", "created_at"),
    build_expectations=lambda: [
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="author_type", value_set=["requester", "agent", "other"]
        ),
    ],
    references={"ticket_id": ("tickets", "ticket_id")},
    timestamp_column="created_at",
)
