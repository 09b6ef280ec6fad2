"""The standard export layout: where each dataset's raw file sits in a data folder, relative to
it. The file extractor reads this layout; the simulator writes it."""

from __future__ import annotations

# Where each raw export goes, relative to the data folder: the layout the file extractor reads.
RAW_LAYOUT: dict[str, str] = {
    "customers": "crm/customers.csv",
    "orders": "crm/orders.csv",
    "social_posts": "social/posts.jsonl",
    "tickets": "support/tickets.jsonl",
    "ticket_comments": "support/ticket_comments.jsonl",
    "ideas": "ideas/ideas.csv",
}

# A company's policy file in a data folder written by the simulator (and in the bundled sample).
SAMPLE_POLICY_FILE = "policy.yaml"
