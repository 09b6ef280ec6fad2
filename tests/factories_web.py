"""A small published Patronage database for the web page's tests, users included, and a real
uvicorn server on 127.0.0.1 serving it."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import httpx
import pandas as pd
import uvicorn
from sqlalchemy import Engine, insert

from patronage.schemas.tables import case_purchases, identity_candidates, score_history
from patronage.tasks.io.publish_queues import publish_to_engine
from patronage.web.app import create_app
from patronage.web.config import WebConfig
from patronage.web.users import add_user

from factories import free_port

TODAY = datetime.now().date()
PASSWORD = "correct horse battery"
# username → (role, teams)
USERS = {
    "ana": ("agent", ("team-east",)),
    "bo": ("agent", ("team-east",)),
    "wes": ("agent", ("team-west",)),
    "pia": ("product", ()),
    "ada": ("admin", ()),
    "rita": ("product", ()),  # the rate-limit test locks her out
}
# Text a customer might post: markup, a script URL, a right-to-left override, and a megabyte.
HOSTILE_TITLE = (
    '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'
    "<a href=\"javascript:document.title='pwned'\">click me</a> \u202eevil\u202c"
)
HUGE_TEXT = "A" * 1_000_000


def _case(n: int, owner: str, reasons: str, due_in: int, tier: str = "gold") -> dict:
    evidence = {
        "p_alive": 0.42,
        "days_since_last_purchase": 90,
        "typical_interval_days": 30.0,
        "latency_ratio": 3.0,
        "items": [
            {"conversation_id": f"post:P{n}", "intent": "churn_threat", "confidence": 0.91,
             "sentiment": -0.7, "occurred_at": TODAY.isoformat()},
            {"ticket_id": f"T{n}", "status": "open", "priority": "high", "age_days": 12},
        ],
    }  # fmt: skip
    return {
        "case_id": f"RET-C{n}",
        "customer_id": f"C{n}",
        "value_tier": tier,
        "clv": 1000.0 + n,
        "value_at_risk": 500.0 - n,
        "priority_score": 100.0 - n,
        "priority_rank": n,
        "reason_codes": reasons,
        "evidence": json.dumps(evidence),
        "goal": "Secure the customer's next purchase within 30 days",
        "playbook": "Call the customer\nOffer a loyalty credit",
        "owner": owner,
        "due_date": TODAY + timedelta(days=due_in),
    }


def seed(engine: Engine, extra_cases: int = 0) -> None:
    """Publish four cases (three of team-east, one of team-west), three ideas (one with
    hostile text), a quarantined row, an identity candidate and a case's history; add users."""
    cases = pd.DataFrame(
        [
            _case(1, "team-east", "churn_threat,latency_breach", -2),
            _case(2, "team-east", "latency_breach", 0),
            _case(3, "team-east", "alive_drop", 5, tier="silver"),
            _case(4, "team-west", "complaint", 3),
        ]
        + [_case(10 + i, "team-east", "latency_breach", 7) for i in range(extra_cases)]
    )
    items = pd.DataFrame(
        [
            {"idea_key": key, "title": title, "n_mentions": 2, "n_supporters": n,
             "customer_supporters": c, "stakeholder_supporters": n - c, "votes": votes,
             "priority_score": score, "priority_rank": rank, "first_seen": pd.Timestamp("2026-01-01"),
             "last_activity": pd.Timestamp("2026-10-01"), "momentum": 0.25}
            for key, title, n, c, votes, score, rank in [
                ("IDEA-A", "Dark mode", 2, 1, 10, 9.0, 1),
                ("IDEA-B", "Dark theme please", 2, 2, 4, 6.0, 2),
                ("IDEA-X", HOSTILE_TITLE + HUGE_TEXT, 1, 0, 0, 1.0, 3),
            ]
        ]
    )  # fmt: skip
    supporters = pd.DataFrame(
        {
            "idea_key": ["IDEA-A", "IDEA-A", "IDEA-B", "IDEA-B", "IDEA-X"],
            "supporter_id": ["C1", "S1", "C1", "C2", "S9"],
            "supporter_kind": ["customer", "stakeholder", "customer", "customer", "stakeholder"],
            "weight": [5.0, 2.0, 5.0, 4.0, 1.0],
            "conversation_id": ["idea:I1", "post:P1", "idea:I2", "idea:I3", "post:P9"],
            "excerpt": ["Dark mode!", "+1 dark", "Dark theme", "Night theme", HOSTILE_TITLE],
        }
    )
    quarantined = pd.DataFrame(
        [{"dataset": "orders", "source": "orders.csv", "row_key": "O77",
          "reasons": ["amount_between"],
          "raw_row": {"order_id": "O77", "customer_id": "C1", "ordered_at": "2026-10-01",
                      "amount": "-5"}}]
    )  # fmt: skip
    publish_to_engine(engine, "run-web-1", None, TODAY, cases, items, supporters, quarantined)
    now = datetime.now()
    with engine.begin() as conn:
        conn.execute(
            insert(score_history),
            [{"customer_id": "C1", "as_of": TODAY - timedelta(days=d), "run_id": f"r{d}",
              "p_alive": p, "expected_clv": 900.0, "value_at_risk": 400.0, "value_tier": "gold"}
             for d, p in [(60, 0.9), (30, 0.7), (0, 0.42)]],
        )  # fmt: skip
        conn.execute(
            insert(case_purchases),
            [{"customer_id": "C1", "order_id": f"O{i}", "amount": 40.0 + i,
              "ordered_at": datetime(2026, 1, 1) + timedelta(days=30 * i)} for i in range(6)],
        )  # fmt: skip
        conn.execute(
            insert(identity_candidates).values(
                identity_key="twitter:maybe_c2", customer_id="C2", match_probability=0.93,
                run_id="run-web-1", found_at=now,
                compared=json.dumps({"author_name": "dana ro", "author_city": "lyon",
                                     "customer_name": "dana rossi", "customer_city": "lyon"}),
            )
        )  # fmt: skip
    for name, (role, teams) in USERS.items():
        add_user(engine, name, role, PASSWORD, teams)


@contextmanager
def serve(engine: Engine, config: WebConfig | None = None) -> Iterator[str]:
    """The web page served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(engine, config),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )  # fmt: skip
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_until_serving(base: str, process: subprocess.Popen, seconds: float = 120) -> None:
    """Wait until ``patronage web`` (started as ``process``) answers ``/healthz`` with 200.

    Raises:
        RuntimeError: The process ended, or did not answer within ``seconds``.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"patronage web exited with {process.returncode}: {output}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"patronage web did not answer in {seconds:.0f} s")
        time.sleep(0.3)


def today() -> date:
    return TODAY
