"""Nightly runs that ended Failed or Crashed lately, read from the Prefect API (ids, names and
state messages: a breach message names datasets and counts, never rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterStartTime,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

NIGHTLY_FLOW = "patronage-nightly"


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def read_failed_nightlies(hours: int = 24) -> list[dict]:
    """Failed or crashed ``patronage-nightly`` runs that started in the last ``hours``."""
    from prefect.settings import PREFECT_UI_URL

    since = datetime.now(UTC) - timedelta(hours=hours)
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[NIGHTLY_FLOW])),
            flow_run_filter=FlowRunFilter(
                state=dict(type=FlowRunFilterStateType(any_=[StateType.FAILED, StateType.CRASHED])),
                start_time=FlowRunFilterStartTime(after_=since),
            ),
            limit=50,
        )
    ui = (PREFECT_UI_URL.value() or "").rstrip("/")
    found = []
    for run in runs:
        message = (run.state.message if run.state else None) or ""
        found.append(
            {
                "id": str(run.id),
                "run_name": run.name,
                "state": run.state.name if run.state else "Failed",
                "message": (message.splitlines() or [""])[0][:300],  # the breach's first line
                "link": f"{ui}/runs/flow-run/{run.id}" if ui else "",
            }
        )
    return found


def latest_nightly(api_url: str, timeout_seconds: float = 3.0) -> dict | None:
    """The newest ``patronage-nightly`` run on the Prefect API at ``api_url`` (any state):
    ``id``, ``state``, ``start_time``, ``message``; None when there is none. A plain call, not
    a task: the web page's health view asks it with a short timeout."""
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.sorting import FlowRunSort

    with SyncPrefectClient(api_url, httpx_settings={"timeout": timeout_seconds}) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[NIGHTLY_FLOW])),
            sort=FlowRunSort.START_TIME_DESC,
            limit=1,
        )
    if not runs:
        return None
    run = runs[0]
    message = (run.state.message if run.state else None) or ""
    return {
        "id": str(run.id),
        "state": run.state.name if run.state else "Unknown",
        "start_time": run.start_time,
        "message": (message.splitlines() or [""])[0][:300],
    }
