"""The web page under load, on PostgreSQL: CASES open retention cases (default 100,000) and IDEAS
ideas (default 20,000) in a database this script creates and drops. Prints the server time
(Server-Timing) and the client's wall time of the first page of My work and of Ideas (median
and p95 over REQUESTS requests, default 200, from one local client), then claims per second
with CLIENTS concurrent clients (default 20) over real HTTP, and double claims (must be 0).
The server is ``patronage web --workers WORKERS`` (default 2, one per core), as deployed.

    make bench-web            # CASES=… IDEAS=… REQUESTS=… CLIENTS=… CLAIMS=…
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

CASES = int(os.environ.get("CASES", "100000"))
IDEAS = int(os.environ.get("IDEAS", "20000"))
REQUESTS = int(os.environ.get("REQUESTS", "200"))
CLIENTS = int(os.environ.get("CLIENTS", "20"))
CLAIMS = int(os.environ.get("CLAIMS", "4000"))
WORKERS = int(os.environ.get("WORKERS", "2"))
TEAMS = 10
SERVER = os.environ.get(
    "PATRONAGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _seed(engine) -> None:
    from sqlalchemy import insert, text

    from patronage.resources.database import ensure_schema
    from patronage.schemas.tables import idea_supporters, ideation_items, retention_cases
    from patronage.web.users import add_user

    ensure_schema(engine)
    today = date.today()
    now = datetime.now()
    rng = random.Random(7)
    evidence = json.dumps({"p_alive": 0.4, "days_since_last_purchase": 80, "items": []})
    cases = [
        {
            "case_id": f"RET-B{i}", "customer_id": f"B{i}", "value_tier": rng.choice(["gold", "silver", "bronze"]),
            "clv": 1000.0, "value_at_risk": rng.uniform(10, 900), "priority_score": rng.uniform(0, 100),
            "priority_rank": i + 1, "reason_codes": rng.choice(["latency_breach", "alive_drop", "churn_threat,complaint"]),
            "evidence": evidence, "goal": "Secure the next purchase within 30 days",
            "playbook": "Call\nOffer", "owner": f"team-{i % TEAMS}",
            "due_date": today + timedelta(days=rng.randint(-5, 20)), "pipeline_state": "open",
            "opened_at": now, "status": "open",
        }
        for i in range(CASES)
    ]  # fmt: skip
    ideas = [
        {
            "idea_key": f"IDEA-B{i}", "title": f"Idea number {i}", "n_mentions": 3, "n_supporters": 3,
            "customer_supporters": 2, "stakeholder_supporters": 1, "votes": rng.randint(0, 50),
            "priority_score": rng.uniform(0, 50), "priority_rank": i + 1, "first_seen": now,
            "last_activity": now, "pipeline_state": "open", "opened_at": now, "status": "new",
            "momentum": 0.2,
        }
        for i in range(IDEAS)
    ]  # fmt: skip
    supporters = [
        {"idea_key": f"IDEA-B{i}", "supporter_id": f"B{i * 3 + k}",
         "supporter_kind": "stakeholder" if k == 2 else "customer", "weight": 1.0 + k,
         "conversation_id": f"post:Q{i * 3 + k}", "excerpt": "I would love this"}
        for i in range(IDEAS) for k in range(3)
    ]  # fmt: skip
    with engine.begin() as conn:
        for table, rows in (
            (retention_cases, cases),
            (ideation_items, ideas),
            (idea_supporters, supporters),
        ):
            for start in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[start : start + 5000])
    with engine.connect() as conn:
        # What every publish ends with on PostgreSQL (publish_to_engine).
        conn.execute(text("ANALYZE retention_cases, ideation_items, idea_supporters"))
        conn.commit()
    add_user(engine, "pm", "product", "bench password 1")
    for n in range(CLIENTS):
        add_user(
            engine, f"agent{n}", "agent", "bench password 1", [f"team-{t}" for t in range(TEAMS)]
        )
    add_user(engine, "first", "agent", "bench password 1", ["team-0"])


def _signed_in(base: str, username: str):
    import httpx

    client = httpx.Client(base_url=base, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text).group(1)
    client.post(
        "/sign-in",
        data={"username": username, "password": "bench password 1", "csrf_token": token},
    )
    page = client.get("/health")
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _pages(base: str, username: str, path: str) -> tuple[list[float], list[float]]:
    client, _ = _signed_in(base, username)
    server, wall = [], []
    client.get(path)  # warm
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        server.append(float(response.headers["server-timing"].split("dur=")[1]))
    return server, wall


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(round(0.95 * len(values))) - 1)]


def _claims(base: str) -> tuple[int, int, float]:
    clients = [_signed_in(base, f"agent{n}") for n in range(CLIENTS)]
    per_client = CLAIMS // CLIENTS
    pool = [f"RET-B{i}" for i in range(min(CASES, CLAIMS * 2))]
    won = [0] * CLIENTS
    lost = [0] * CLIENTS
    barrier = threading.Barrier(CLIENTS + 1)

    def work(n: int) -> None:
        client, token = clients[n]
        rng = random.Random(n)
        barrier.wait()
        for _ in range(per_client):
            case = rng.choice(pool)
            answer = client.post(
                f"/cases/{case}/claim", data={"csrf_token": token}, headers={"HX-Request": "true"}
            )
            if answer.status_code == 200:
                won[n] += 1
            elif answer.status_code == 409:
                lost[n] += 1
            else:
                raise RuntimeError(f"claim answered {answer.status_code}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return sum(won), sum(lost), time.perf_counter() - started


@contextmanager
def served(url: str):
    """``patronage web`` in its own processes, as an operator starts it."""
    from factories_web import wait_until_serving

    from factories import free_port

    port = free_port()
    patronage = str(Path(sys.executable).with_name("patronage"))
    server = subprocess.Popen(
        [patronage, "web", "--port", str(port), "--database-url", url, "--workers", str(WORKERS)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server)
        yield base
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)


def main() -> None:
    from sqlalchemy import func, select, text
    from sqlalchemy.engine import make_url

    from patronage.resources.database import make_engine
    from patronage.schemas.tables import retention_cases, work_log

    name = f"patronage_bench_web_{uuid.uuid4().hex[:8]}"
    admin = make_engine(SERVER).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        _seed(engine)
        print(
            f"seeded {CASES:,} open cases and {IDEAS:,} ideas in {time.perf_counter() - started:.0f} s"
        )
        with served(url) as base:
            for label, user, path in (
                ("My work, first page (agent of all 10 teams)", "agent0", "/work"),
                ("My work, first page (agent of 1 team)", "first", "/work"),
                ("Ideas, first page", "pm", "/ideas"),
            ):
                server, wall = _pages(base, user, path)
                print(
                    f"{label}: server median {statistics.median(server):.1f} ms, "
                    f"p95 {_p95(server):.1f} ms; client wall median "
                    f"{statistics.median(wall):.1f} ms, p95 {_p95(wall):.1f} ms "
                    f"({REQUESTS} requests)"
                )
            won, lost, seconds = _claims(base)
        with engine.connect() as conn:
            claims = conn.execute(
                select(work_log.c.item_key, func.count())
                .where(work_log.c.action == "claim")
                .group_by(work_log.c.item_key)
            ).all()
            held = conn.execute(
                select(func.count()).where(retention_cases.c.assignee.is_not(None))
            ).scalar_one()
        doubles = sum(1 for _, n in claims if n > 1)
        new = sum(n for _, n in claims)
        print(
            f"claims: {won + lost} attempts by {CLIENTS} concurrent clients in {seconds:.1f} s "
            f"({(won + lost) / seconds:.0f} requests/s): {new} cases claimed "
            f"({new / seconds:.0f} claims/s), {won - new} repeat claims of a case the client "
            f"already held (no-ops), {lost} refused as claimed by another; cases held {held}, "
            f"double claims {doubles}"
        )
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
