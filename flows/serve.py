"""Serve the nightly flow from a long-running process, without a work pool.

``python -m patronage.flows.serve`` (or ``patronage serve``) registers its own deployment,
``patronage-nightly/nightly-served``, and runs its schedule until stopped. It never touches the
``patronage-nightly/nightly`` deployment that ``prefect deploy`` makes from
``deployments/prefect.yaml``: that one keeps its work pool, and is not paused when this
process stops (only the served deployment is).
"""

from __future__ import annotations

from prefect.schedules import Cron

from patronage.config import BUNDLED_SAMPLE_AS_OF, BUNDLED_SAMPLE_POLICY
from patronage.flows.nightly import nightly

SERVED_DEPLOYMENT = "nightly-served"
NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_TIMEZONE = "Europe/Berlin"


def serve_nightly(parameters: dict | None = None, name: str = SERVED_DEPLOYMENT) -> None:
    """Serve ``patronage-nightly/<name>`` at 02:00 Europe/Berlin.

    Args:
        parameters: Fields of the flow's ``params`` the deployment stores; without them it
            runs on the bundled sample at its own cut-off date (like ``deployments/prefect.yaml``).
            The database is left to the serving process's default (``$PATRONAGE_DATABASE_URL``,
            else ``$PATRONAGE_HOME/patronage.db``), so it is the CLI's database too.
        name: Deployment name; must differ from the ``prefect deploy`` deployment's.
    """
    if parameters is None:
        # The bundled sample, with its own policy (its brand account) named explicitly.
        parameters = {
            "as_of": BUNDLED_SAMPLE_AS_OF.isoformat(),
            "policy_file": str(BUNDLED_SAMPLE_POLICY),
        }
    nightly.serve(
        name=name,
        schedules=[Cron(NIGHTLY_CRON, timezone=NIGHTLY_TIMEZONE)],
        parameters={"params": parameters},
        tags=["patronage"],
        description="Nightly retention and ideation queues (served from one process).",
    )


if __name__ == "__main__":
    serve_nightly()
