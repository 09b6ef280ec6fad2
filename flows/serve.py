"""Serve the nightly flow from a long-running process, without a work pool.

``python -m flows.serve`` (or ``patronage serve``) registers the ``nightly`` deployment with the
Prefect API and runs its schedule until stopped.
"""

from __future__ import annotations

from flows.nightly import nightly
from patronage.config import NightlyParameters

NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_TIMEZONE = "Europe/Berlin"


def serve_nightly(parameters: NightlyParameters | None = None) -> None:
    """Serve ``patronage-nightly/nightly`` on its 02:00 schedule."""
    nightly.serve(
        name="nightly",
        cron=NIGHTLY_CRON,
        parameters={"params": (parameters or NightlyParameters()).model_dump(mode="json")},
        tags=["patronage"],
        description="Nightly retention and ideation queues.",
    )


if __name__ == "__main__":
    serve_nightly()
