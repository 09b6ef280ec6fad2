"""The flows as deployments load them: the nightly on the Dask cluster named by the
deployment's ``PATRONAGE_DASK_ADDRESS`` job variable, or in-process when there is none.

``deployments/prefect.yaml`` points its nightly entrypoint here
(``flows/deployed.py:nightly``)."""

from __future__ import annotations

from patronage.flows.nightly import nightly as _nightly
from patronage.flows.task_runners import runner_from_environment

_runner = runner_from_environment()
nightly = _nightly.with_options(task_runner=_runner) if _runner is not None else _nightly

__all__ = ["nightly"]
