"""Where the nightly's partitioned tasks run: in the flow's process (threads), or on a Dask
cluster through prefect-dask's ``DaskTaskRunner``.

A flow's task runner is fixed when the flow is decorated, so the choice is made where the flow
is loaded: ``flows/deployed.py`` reads the deployment's ``PATRONAGE_DASK_ADDRESS`` (a job
variable of the work pool or deployment) and hands the nightly a Dask runner when it is set.
"""

from __future__ import annotations

import os

DASK_ADDRESS_ENV = "PATRONAGE_DASK_ADDRESS"


def dask_task_runner(address: str | None = None, **cluster_kwargs):
    """A ``DaskTaskRunner`` on the scheduler at ``address`` (``tcp://host:8786``), or on a
    ``LocalCluster`` with ``cluster_kwargs`` when there is no address.

    Raises:
        ImportError: prefect-dask is not installed (it is a dependency of Patronage).
    """
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:  # pragma: no cover - installed with Patronage
        raise ImportError("running on Dask needs prefect-dask: pip install prefect-dask") from exc
    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster", cluster_kwargs=cluster_kwargs or None
    )


def runner_from_environment():
    """The Dask runner the environment names (``PATRONAGE_DASK_ADDRESS``), else None."""
    address = os.environ.get(DASK_ADDRESS_ENV, "").strip()
    return dask_task_runner(address) if address else None
