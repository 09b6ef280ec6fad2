"""Identity review: a person accepts or rejects an author–customer pair the nightly found just
below its linking threshold. The answer becomes a manual override (must-link / cannot-link)
that every later run honours, and the pair leaves the review list."""

from __future__ import annotations

from sqlalchemy import Engine, delete

from patronage.schemas.tables import identity_candidates
from patronage.tasks.io.identity_overrides import record_identity_decision


def decide_candidate(
    engine: Engine, identity_key: str, customer_id: str, accept: bool, actor: str
) -> str:
    """Record the decision on one candidate pair; returns ``must_link`` or ``cannot_link``."""
    decision = "must_link" if accept else "cannot_link"
    record_identity_decision(engine, identity_key, customer_id, decision, actor)
    with engine.begin() as conn:
        conn.execute(
            delete(identity_candidates).where(
                identity_candidates.c.identity_key == identity_key,
                identity_candidates.c.customer_id == customer_id,
            )
        )
    return decision
