"""`prefect deploy` from deployments/ against a real local Prefect server, then a worker run."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
PREFECT = str(Path(sys.executable).with_name("prefect"))
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("server-home")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    log = (home / "server.log").open("w")
    server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(1)
    else:
        server.terminate()
        pytest.fail("local Prefect server did not start: " + (home / "server.log").read_text()[-2000:])
    yield api, env
    server.terminate()
    server.wait(timeout=30)


def _prefect(env: dict, *args: str, cwd: Path = REPO) -> str:
    done = subprocess.run([PREFECT, "--no-prompt", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_deploy_schedule_and_run_through_a_process_worker(prefect_server, tmp_path):
    api, env = prefect_server
    _prefect(env, "work-pool", "create", "patronage-process", "--type", "process")
    _prefect(env, "deploy", "--all", cwd=REPO / "deployments")

    deployment = httpx.get(f"{api}/deployments/name/patronage-nightly/nightly").json()
    assert deployment["work_pool_name"] == "patronage-process"
    schedule = deployment["schedules"][0]["schedule"]
    assert (schedule["cron"], schedule["timezone"]) == ("0 2 * * *", "Europe/Berlin")
    assert deployment["parameters"]["params"]["as_of"] == "2026-10-31"
    assert "params" in deployment["parameter_openapi_schema"]["properties"]

    db = tmp_path / "deployed.db"
    params = {"params": {"database_url": f"sqlite:///{db}", "as_of": "2026-10-31"}}
    out = _prefect(env, "deployment", "run", "patronage-nightly/nightly", "--params", json.dumps(params))
    flow_run_id = re.search(r"flow-run/([0-9a-f-]{36})", out).group(1)
    _prefect(env, "worker", "start", "--pool", "patronage-process", "--run-once")
    state = httpx.get(f"{api}/flow_runs/{flow_run_id}").json()["state"]["type"]
    assert state == "COMPLETED"
    assert db.exists()
