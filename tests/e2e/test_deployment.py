"""Patronage as a data engineer deploys it: a real Prefect server started from the project's own
environment, `prefect deploy`, its schedule, a process worker, `patronage serve` beside it,
partial parameter overrides as the README writes them, and the failure notification."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from patronage.resources.database import make_engine

from factories import REPO, free_port  # noqa: E402

BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
PATRONAGE = str(BIN / "patronage")
README = (REPO / "README.md").read_text()
BERLIN = ZoneInfo("Europe/Berlin")
pytestmark = pytest.mark.slow

# What a broken scheduler (or any other server service) leaves in the server's log.
SERVER_ERRORS = re.compile(r"Traceback|InvalidRequestError|Can't evaluate bulk DML| ERROR ")


def _wait_for(what: str, probe, timeout: float = 120, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """`prefect server start` from this environment, on a free port, with its own home."""
    home = tmp_path_factory.mktemp("server-home")
    patronage_home = tmp_path_factory.mktemp("patronage-home")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PATRONAGE_HOME": str(patronage_home),
    }
    env.pop("PATRONAGE_DATABASE_URL", None)
    log_path = home / "server.log"
    log = log_path.open("w")
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def healthy() -> bool:
        try:
            return httpx.get(f"{api}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _wait_for("the local Prefect server", healthy, timeout=180)
    except BaseException:
        server.terminate()
        raise
    yield {"api": api, "env": env, "log": log_path, "home": patronage_home}
    server.terminate()
    server.wait(timeout=30)
    log.close()


@pytest.fixture(scope="module")
def deployed(prefect_server):
    """The README's steps 2: a process work pool and `prefect deploy --all` from deployments/."""
    env = prefect_server["env"]
    _prefect(env, "work-pool", "create", "patronage-process", "--type", "process")
    _prefect(env, "deploy", "--all", cwd=REPO / "deployments")
    return prefect_server


def _prefect(env: dict, *args: str, cwd: Path = REPO) -> str:
    done = subprocess.run(
        [PREFECT, "--no-prompt", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _deployment(api: str, name: str) -> dict | None:
    response = httpx.get(f"{api}/deployments/name/patronage-nightly/{name}")
    return response.json() if response.status_code == 200 else None


def _scheduled_runs(api: str, deployment_id: str) -> list[dict]:
    body = {
        "flow_runs": {
            "deployment_id": {"any_": [deployment_id]},
            "state": {"type": {"any_": ["SCHEDULED"]}},
        },
        "sort": "EXPECTED_START_TIME_ASC",
    }
    return httpx.post(f"{api}/flow_runs/filter", json=body).json()


def _assert_next_runs_at_two_in_berlin(api: str, deployment: dict) -> None:
    runs = _wait_for(
        f"scheduled runs of {deployment['name']}",
        lambda: _scheduled_runs(api, deployment["id"]),
        timeout=150,
        every=2,
    )
    for run in runs:
        start = datetime.fromisoformat(run["expected_start_time"]).astimezone(BERLIN)
        assert (start.hour, start.minute) == (2, 0), run["expected_start_time"]


def _server_errors(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if SERVER_ERRORS.search(line)]


def _run_deployment(env: dict, params: dict, name: str = "patronage-nightly/nightly") -> str:
    """`prefect deployment run` as the README writes it; then one worker pass runs it."""
    out = _prefect(env, "deployment", "run", name, "--params", json.dumps(params))
    flow_run_id = re.search(r"flow-run/([0-9a-f-]{36})", out).group(1)
    _prefect(env, "worker", "start", "--pool", "patronage-process", "--run-once")
    return flow_run_id


def _flow_run(api: str, flow_run_id: str) -> dict:
    return httpx.get(f"{api}/flow_runs/{flow_run_id}").json()


def _published_counts(home: Path) -> dict[str, int]:
    engine = make_engine(f"sqlite:///{home / 'patronage.db'}")
    with engine.connect() as conn:
        counts = {
            queue: conn.execute(
                text(f"SELECT COUNT(*) FROM {table} WHERE pipeline_state = 'open'")
            ).scalar()
            for queue, table in (("retention", "retention_cases"), ("ideation", "ideation_items"))
        }
    engine.dispose()
    return counts


def test_the_deployment_is_scheduled_for_two_in_berlin_with_no_server_error(deployed):
    api = deployed["api"]
    deployment = _deployment(api, "nightly")
    assert deployment["work_pool_name"] == "patronage-process"
    schedule = deployment["schedules"][0]["schedule"]
    assert (schedule["cron"], schedule["timezone"]) == ("0 2 * * *", "Europe/Berlin")
    assert deployment["parameters"]["params"]["as_of"] == "2026-10-31"
    assert "database_url" not in deployment["parameters"]["params"]  # the worker's default
    _assert_next_runs_at_two_in_berlin(api, deployment)
    time.sleep(5)  # let a scheduler loop or two pass over the new runs
    assert _server_errors(deployed["log"]) == []


def test_a_one_field_override_keeps_every_other_setting(deployed):
    api, env, home = deployed["api"], deployed["env"], deployed["home"]
    # The README's own example: before overrides were merged it dropped as_of and failed.
    readme_params = '{"params": {"dry_run": true}}'
    assert f"prefect deployment run patronage-nightly/nightly --params '{readme_params}'" in README
    dry = _run_deployment(env, json.loads(readme_params))
    assert _flow_run(api, dry)["state"]["type"] == "COMPLETED"
    assert not (home / "patronage.db").exists() or _published_counts(home)["retention"] == 0

    # A nested field: the other queue size and as_of keep the deployment's values.
    sized = _run_deployment(env, {"params": {"queue_sizes": {"retention": 5}}})
    assert _flow_run(api, sized)["state"]["type"] == "COMPLETED"
    counts = _published_counts(home)  # the documented default location, from the worker's env
    assert counts["retention"] == 5
    assert counts["ideation"] > 5


def test_a_breached_run_notifies_the_operators(deployed, httpserver):
    api, env = deployed["api"], deployed["env"]
    httpserver.expect_request("/alerts", method="POST").respond_with_data("ok")
    make_block = (
        "from prefect.blocks.notifications import CustomWebhookNotificationBlock as B\n"
        f"B(name='patronage-ops', url='{httpserver.url_for('/alerts')}', "
        "json_data={'subject': '{{subject}}', 'body': '{{body}}'}).save('patronage-ops', overwrite=True)\n"
    )
    subprocess.run([sys.executable, "-c", make_block], env=env, check=True, timeout=120)
    installed = subprocess.run(
        [PATRONAGE, "alerts", "install", "--block", "custom-webhook/patronage-ops"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "patronage-nightly failed" in installed.stdout

    breached = _run_deployment(env, {"params": {"as_of": "2027-03-01"}})  # orders 4 months stale
    state = _flow_run(api, breached)["state"]
    assert state["type"] == "FAILED"
    assert "freshness limit" in state["message"]
    _wait_for("the failure notification", lambda: len(httpserver.log) > 0, timeout=120)
    sent = httpserver.log[0][0].get_json()
    assert "Failed" in sent["subject"]
    assert "freshness limit" in sent["body"] and "Nothing was published" in sent["body"]
    assert "@" not in sent["body"]  # ids and counts, no e-mail addresses

    def breach_events():
        # the server persists events asynchronously: poll rather than read once
        return httpx.post(
            f"{api}/events/filter",
            json={
                "filter": {
                    "event": {"name": ["patronage.contract.breached"]},
                    "related": {"id": [f"prefect.flow-run.{breached}"]},
                }
            },
        ).json()["events"]

    events = _wait_for("the contract-breach event", breach_events, timeout=60)
    assert [e["resource"]["prefect.resource.name"] for e in events] == ["orders"]


def test_alerts_install_names_a_missing_block(deployed):
    done = subprocess.run(
        [PATRONAGE, "alerts", "install", "--block", "slack-webhook/nope"],
        env=deployed["env"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "no notification block slack-webhook/nope" in done.stdout


def test_serve_runs_its_own_deployment_and_leaves_the_deployed_one_alone(deployed):
    api, env = deployed["api"], deployed["env"]
    before = _deployment(api, "nightly")
    serving = subprocess.Popen(
        [PATRONAGE, "serve"],
        env=env,
        cwd=REPO / "deployments",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        served = _wait_for(
            "the served deployment", lambda: _deployment(api, "nightly-served"), timeout=180
        )
        schedule = served["schedules"][0]["schedule"]
        assert (schedule["cron"], schedule["timezone"]) == ("0 2 * * *", "Europe/Berlin")
        _assert_next_runs_at_two_in_berlin(api, served)
        during = _deployment(api, "nightly")
        assert during["id"] == before["id"]
        assert during["work_pool_name"] == "patronage-process"
        assert during["paused"] is False
    finally:
        serving.send_signal(signal.SIGINT)
        try:
            serving.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serving.kill()
    after = _deployment(api, "nightly")
    assert (after["paused"], after["work_pool_name"]) == (False, "patronage-process")
    assert after["schedules"][0]["active"] is True
    assert after["parameters"] == before["parameters"]
    assert _server_errors(deployed["log"]) == []


def test_serve_refuses_the_deployed_name():
    done = subprocess.run(
        [PATRONAGE, "serve", "--name", "nightly"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert "prefect deploy" in done.stdout


def test_the_backtest_deployment_runs_and_the_next_nightly_shows_its_figures(deployed, tmp_path):
    api, env = deployed["api"], deployed["env"]
    deployment = httpx.get(f"{api}/deployments/name/patronage-backtest/backtest").json()
    schedule = deployment["schedules"][0]["schedule"]
    assert (schedule["cron"], schedule["timezone"]) == ("0 4 * * 0", "Europe/Berlin")

    out = tmp_path / "backtest"
    run = _run_deployment(
        env, {"params": {"out_dir": str(out), "rolling": 1}}, "patronage-backtest/backtest"
    )
    assert _flow_run(api, run)["state"]["type"] == "COMPLETED"
    figures = json.loads((out / "backtest.json").read_text())
    assert figures["as_of"] == "2026-08-02"  # the bundled data's last day minus 90 days
    assert (out / "gains.png").stat().st_size > 0 and (out / "calibration.png").stat().st_size > 0

    nightly = _run_deployment(env, {"params": {"dry_run": True}})
    summary = httpx.post(
        f"{api}/artifacts/filter",
        json={
            "artifacts": {
                "key": {"any_": ["patronage-run-summary"]},
                "flow_run_id": {"any_": [nightly]},
            }
        },
    ).json()[0]["data"]
    assert "## Last backtest (as of 2026-08-02)" in summary
    section = summary.split("## Last backtest")[1].split("\n## ")[0]
    queue_row = next(line for line in section.splitlines() if line.startswith("| queue |"))
    assert f"{figures['capture']['queue']['50']:.3f}" in queue_row


def test_the_delivery_deployment_runs_every_five_minutes_one_at_a_time_and_after_a_nightly(
    deployed,
):
    api = deployed["api"]
    deployment = httpx.get(f"{api}/deployments/name/patronage-deliver/deliver").json()
    assert [s["schedule"]["cron"] for s in deployment["schedules"]] == ["*/5 * * * *"]
    limit = deployment.get("global_concurrency_limit") or {}
    assert limit.get("limit") == 1
    automations = httpx.post(f"{api}/automations/filter", json={}).json()
    mine = [
        a
        for a in automations
        if any(action.get("deployment_id") == deployment["id"] for action in a.get("actions", []))
    ]
    assert len(mine) == 1
    trigger = mine[0]["trigger"]
    assert trigger["expect"] == ["prefect.flow-run.Completed"]
    assert trigger["match_related"]["prefect.resource.name"] == "patronage-nightly"


def test_the_readme_registers_patronages_blocks_in_the_catalogue(deployed):
    api, env = deployed["api"], deployed["env"]
    for module in ("patronage.resources.database", "patronage.tasks.io.destinations"):
        assert f"prefect block register -m {module}" in README
        _prefect(env, "block", "register", "-m", module)
    for slug in (
        "patronage-database",
        "patronage-slack-destination",
        "patronage-email-destination",
        "patronage-hubspot-destination",
        "patronage-zendesk-destination",
    ):
        assert httpx.get(f"{api}/block_types/slug/{slug}").status_code == 200, slug
