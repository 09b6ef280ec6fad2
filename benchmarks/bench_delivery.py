"""Delivery throughput: MESSAGES outbox messages (default 10,000) delivered to the local
Zendesk fake (HTTP on 127.0.0.1, idempotency keys) with no rate limit, then again with the fake
answering 429 to 10 % of requests (Retry-After: 0). Prints messages per second, losses and
duplicates, on SQLite and, when reachable, PostgreSQL.

    make bench-delivery            # MESSAGES=… DATABASES=sqlite,postgresql to change
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

MESSAGES = int(os.environ.get("MESSAGES", "10000"))
DATABASES = os.environ.get("DATABASES", "sqlite,postgresql").split(",")
POSTGRES = os.environ.get(
    "PATRONAGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _queue(engine, n: int) -> None:
    from patronage.resources.database import ensure_schema
    from patronage.schemas.tables import outbox

    ensure_schema(engine)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "recipient_kind": "customer",
            "recipient_id": f"K{i}",
            "item_key": f"RET-K{i}",
            "kind": "case_opened",
            "destination": "zendesk",
            "idempotency_key": f"case_opened:RET-K{i}:zendesk",
            "payload": json.dumps(
                {
                    "case_id": f"RET-K{i}",
                    "customer_id": f"K{i}",
                    "value_tier": "core",
                    "reasons": "latency_breach",
                    "goal": "Keep the customer buying",
                    "owner": "team:customer-care",
                    "due_date": "2026-12-04",
                    "priority_rank": i,
                }
            ),
            "created_at": now,
        }
        for i in range(n)
    ]
    with engine.begin() as conn:
        for start in range(0, n, 1000):
            conn.execute(outbox.insert(), rows[start : start + 1000])


def serve_fake(every: int, ready) -> None:
    """The Zendesk fake in a process of its own (as a real server would be), with /stats."""
    import logging

    from fakes import FakeZendesk
    from pytest_httpserver import HTTPServer
    from werkzeug.wrappers import Response

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    zendesk = FakeZendesk(server)
    zendesk.faults.every = every

    def stats(_request):
        external = [t["external_id"] for t in zendesk.tickets]
        body = {"tickets": len(external), "unique": len(set(external)),
                "requests": zendesk.faults.requests, "repeats": zendesk.repeats}  # fmt: skip
        return Response(json.dumps(body), 200)

    server.expect_request("/stats").respond_with_handler(stats)
    server.start()
    ready.put(server.url_for("/").rstrip("/"))
    while True:  # until the benchmark terminates this process
        time.sleep(3600)


def _run(url: str, every: int) -> dict:
    import multiprocessing

    import httpx
    from pydantic import SecretStr

    from patronage.resources.database import make_engine
    from patronage.tasks.io.destinations import ZendeskDestination
    from patronage.tasks.stages.deliver_outbox import deliver_outbox

    ready = multiprocessing.Queue()
    fake = multiprocessing.Process(target=serve_fake, args=(every, ready), daemon=True)
    fake.start()
    base_url = ready.get(timeout=60)
    engine = make_engine(url)
    _queue(engine, MESSAGES)
    block = ZendeskDestination(
        base_url=base_url,
        email="agent@acme.example",
        api_token=SecretStr("zd-token"),
        group_map={"team:customer-care": 1},
        rate_per_second=1e9,
    )
    session = block.open()
    started = time.perf_counter()
    report = deliver_outbox(
        engine, {"zendesk": session}, {}, None, "https://p", 120, 50, seed=1,
        parallel={"zendesk": block.parallel_requests},
    )  # fmt: skip
    seconds = time.perf_counter() - started
    session.close()
    engine.dispose()
    stats = httpx.get(f"{base_url}/stats").json()
    fake.terminate()
    return {
        "messages": MESSAGES,
        "parallel_requests": block.parallel_requests,
        "sent": len(report.sent),
        "attempts": report.attempts,
        "seconds": round(seconds, 2),
        "messages_per_second": round(len(report.sent) / seconds, 1),
        "lost": MESSAGES - stats["unique"],
        "duplicates_at_zendesk": stats["tickets"] - stats["unique"],
        "answered_429": report.attempts - len(report.sent),
    }


def main() -> None:
    from sqlalchemy import text

    from patronage.resources.database import make_engine

    for backend in DATABASES:
        for every, label in ((0, "no rate limit"), (10, "429 to 10% of requests")):
            if backend == "sqlite":
                folder = tempfile.mkdtemp(prefix="bench-delivery-")
                url = f"sqlite:///{folder}/p.db"
                figures = _run(url, every)
            else:
                name = f"bench_delivery_{uuid.uuid4().hex[:8]}"
                server = make_engine(POSTGRES).execution_options(isolation_level="AUTOCOMMIT")
                try:
                    with server.connect() as conn:
                        conn.execute(text(f'CREATE DATABASE "{name}"'))
                except Exception as exc:  # noqa: BLE001 - say why and go on
                    print(f"postgresql: not reachable ({type(exc).__name__}), skipped")
                    break
                from sqlalchemy.engine import make_url

                url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
                try:
                    figures = _run(url, every)
                finally:
                    with server.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    server.dispose()
            print(f"{backend:>10} | {label:<24} | {json.dumps(figures)}")


if __name__ == "__main__":
    main()
