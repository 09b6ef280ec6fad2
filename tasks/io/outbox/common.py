"""What the outbox modules share: message kinds and the clock."""

from __future__ import annotations

from datetime import UTC, datetime

IDEA_KINDS = ("idea_status_changed", "idea_merged")


TEAM_KINDS = ("team_digest", "sla_breach", "operator_alert")


UNSENT = ("pending", "in_flight")


DONE = ("sent", "dead", "discarded", "skipped")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
