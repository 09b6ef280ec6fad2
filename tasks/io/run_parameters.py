"""What a deployment run was really given: the deployment's parameters and the run's own."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.runtime import deployment, flow_run


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def read_deployment_parameters(
    names: list[str],
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]] | None:
    """``{name: (deployment's value, run's value)}`` of each parameter in ``names`` (one read of
    the deployment and the run), or ``None`` outside a deployment.

    The run's value is read as stored by the API (before Prefect fills in defaults), so a
    caller can tell which fields an operator's override actually set.
    """
    deployment_id = deployment.get_id()
    run_id = flow_run.get_id()
    if not deployment_id or not run_id:
        return None
    with get_client(sync_client=True) as client:
        stored = client.read_deployment(deployment_id)
        run = client.read_flow_run(run_id)
    return {
        name: ((stored.parameters or {}).get(name) or {}, (run.parameters or {}).get(name) or {})
        for name in names
    }
