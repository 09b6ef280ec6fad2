"""Customers: one row per CRM customer, keyed by ``customer_id``."""

import great_expectations as gx

from patronage.schemas.contract import DatasetContract

EMAIL_REGEX = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

CUSTOMERS = DatasetContract(
    name="customers",
    grain="one row per CRM customer",
    keys=("customer_id",),
    columns={
        "customer_id": "str",
        "name": "str",
        "email": "str",
        "phone": "str",
        "city": "str",
        "account_owner": "str",
        "social_handles": "str",
        "signup_date": "date",
        # How to reach them for the closed loop to idea suggesters (optional in exports).
        "language": "str",
        "email_opt_out": "str",
    },
    required=("customer_id", "signup_date"),
    optional=("language", "email_opt_out"),
    build_expectations=lambda: [
        gx.expectations.ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL_REGEX),
    ],
)
