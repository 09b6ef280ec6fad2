"""Serve the nightly flow from a long-running process, without a work pool.

``python -m flows.serve`` (or ``patronage serve``) registers the ``nightly`` deployment with the
Prefect API and runs its schedule until stopped.
"""

from __future__ import annotations

from flows.nightly import nightly
from patronage.config import BUNDLED_SAMPLE_AS_OF, NightlyParameters

NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_TIMEZONE = "Europe/Berlin"


def serve_nightly(parameters: NightlyParameters | None = None) -> None:
    """Serve ``patronage-nightly/nightly`` on its 02:00 schedule.

    Without ``parameters`` it runs on the bundled sample at its own cut-off date, like the
    defaults in ``deployments/prefect.yaml``.
    """
    nightly.serve(
        name="nightly",
        cron=NIGHTLY_CRON,
        parameters={"params": (parameters or NightlyParameters(as_of=BUNDLED_SAMPLE_AS_OF))
                    .model_dump(mode="json")},
        tags=["patronage"],
        description="Nightly retention and ideation queues.",
    )


if __name__ == "__main__":
    serve_nightly()
