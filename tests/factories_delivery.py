"""A small published company for delivery tests: one idea with four kinds of supporter and a
few retention cases, written straight into a fresh database."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, insert

from patronage.resources.database import ensure_schema
from patronage.schemas.tables import (
    contact_points,
    idea_supporters,
    ideation_items,
    retention_cases,
)

NOW = datetime(2026, 11, 30, 8, 0)
IDEA = "IDEA-idea-I00001"
# C1 reads German and has an address; C2 opted out; C3 has no address; S1 is not a customer.
SUPPORTERS = [
    ("C1", "customer", "post:P1"),
    ("C2", "customer", "post:P2"),
    ("C3", "customer", "post:P3"),
    ("S1", "stakeholder", "post:P4"),
]


def publish_small_company(engine: Engine, cases: int = 3) -> None:
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(ideation_items),
            [
                {
                    "idea_key": IDEA,
                    "title": "Dark mode",
                    "n_mentions": 4,
                    "n_supporters": 4,
                    "customer_supporters": 3,
                    "stakeholder_supporters": 1,
                    "votes": 7,
                    "priority_score": 9.5,
                    "priority_rank": 1,
                    "first_seen": NOW,
                    "last_activity": NOW,
                }
            ],
        )
        conn.execute(
            insert(idea_supporters),
            [
                {
                    "idea_key": IDEA,
                    "supporter_id": sid,
                    "supporter_kind": kind,
                    "weight": 1.0,
                    "conversation_id": conv,
                }
                for sid, kind, conv in SUPPORTERS
            ],
        )
        conn.execute(
            insert(contact_points),
            [
                {"customer_id": "C1", "email": "c1@example.test", "language": "de",
                 "opted_out": 0, "updated_at": NOW},
                {"customer_id": "C2", "email": "c2@example.test", "language": None,
                 "opted_out": 1, "updated_at": NOW},
                {"customer_id": "C3", "email": None, "language": None,
                 "opted_out": 0, "updated_at": NOW},
            ] + [
                {"customer_id": f"K{i}", "email": f"k{i}@example.test", "language": "en",
                 "opted_out": 0, "updated_at": NOW}
                for i in range(1, cases + 1)
            ],
        )  # fmt: skip
        owners = ["team:key-accounts", "owner-03", "team:growth"]
        conn.execute(
            insert(retention_cases),
            [
                {
                    "case_id": f"RET-K{i}",
                    "customer_id": f"K{i}",
                    "value_tier": "high_value" if i == 1 else "core",
                    "clv": 100.0,
                    "value_at_risk": 50.0,
                    "priority_score": 50.0 - i,
                    "priority_rank": i,
                    "reason_codes": "churn_threat,latency_breach",
                    "evidence": "{}",
                    "goal": "Keep the customer buying",
                    "playbook": "",
                    "owner": owners[(i - 1) % len(owners)],
                    "due_date": date(2026, 12, 1 + i % 20),
                    "opened_at": datetime.now(UTC).replace(tzinfo=None),
                }
                for i in range(1, cases + 1)
            ],
        )
