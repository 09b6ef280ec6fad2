"""Support tickets: one row per ticket, keyed by ``ticket_id``."""

import great_expectations as gx

from patronage.schemas.contract import DatasetContract

TICKET_STATUSES = ["new", "open", "pending", "hold", "solved", "closed"]
TICKET_PRIORITIES = ["low", "normal", "high", "urgent"]

TICKETS = DatasetContract(
    name="tickets",
    grain="one row per support ticket",
    keys=("ticket_id",),
    columns={
        "ticket_id": "str",
        "requester_email": "str",
        "requester_phone": "str",
        "requester_name": "str",
        "via_handle": "str",
        "subject": "str",
        "body": "str",
        "status": "str",
        "priority": "str",
        "created_at": "timestamp",
        "updated_at": "timestamp",
        "satisfaction": "str",
    },
    required=("ticket_id", "status", "created_at"),
    build_expectations=lambda: [
        gx.expectations.ExpectColumnValuesToBeInSet(column="status", value_set=TICKET_STATUSES),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="priority", value_set=TICKET_PRIORITIES, mostly=1.0
        ),
    ],
    optional=("requester_phone",),
    timestamp_column="created_at",
)
