"""What the outbox modules share: the idea message kinds and the clock."""

from __future__ import annotations

from datetime import UTC, datetime

IDEA_KINDS = ("idea_status_changed", "idea_merged")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
