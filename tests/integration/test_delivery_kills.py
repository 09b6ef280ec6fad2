"""Kill the delivery process at random points (SIGKILL, not an exception) and run it again:
every message arrives; none twice at Zendesk; at Slack and over SMTP at most the one message
in flight per kill (each is sent one at a time)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from factories_delivery import IDEA, publish_small_company
from fakes import FakeSlack, FakeZendesk, RecordingSmtp
from sqlalchemy import func, select

from patronage.resources.database import make_engine
from patronage.schemas.tables import outbox
from patronage.work import set_idea_status

from factories import REPO

pytestmark = pytest.mark.slow
WORKER = Path(__file__).with_name("delivery_worker.py")
KILLS = 20
CASES = 60


def test_twenty_kills_lose_nothing_and_double_nothing_at_idempotent_destinations(
    tmp_path, httpserver, record_property
):
    url = f"sqlite:///{tmp_path / 'kills.db'}"
    engine = make_engine(url)
    publish_small_company(engine, cases=CASES)
    for status in ("under_review", "planned", "shipped"):
        set_idea_status(engine, IDEA, status, "pm-1")
    slack, zendesk = FakeSlack(httpserver), FakeZendesk(httpserver)
    slack.faults.delay = zendesk.faults.delay = 0.02
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(20)
    with RecordingSmtp() as smtp:
        smtp.delay = 0.02
        args = [sys.executable, str(WORKER), url, slack.url,
                httpserver.url_for("/").rstrip("/"), str(smtp.port)]  # fmt: skip
        killed = 0
        for _ in range(KILLS):
            worker = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
            assert worker.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.0, 0.25))
            if worker.poll() is None:
                worker.send_signal(signal.SIGKILL)
                killed += 1
            worker.wait(timeout=60)
        final = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
        assert final.returncode == 0, final.stderr[-3000:]
        smtp_to = Counter((m["To"], m["Message-ID"]) for m in smtp.messages)

    with engine.connect() as conn:
        states = dict(
            conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all()
        )
    engine.dispose()
    # every message reached its destination (C2 opted out: skipped)
    assert states == {"sent": CASES + 3 + 6, "skipped": 3}
    assert sorted(t["external_id"] for t in zendesk.tickets) == sorted(
        f"RET-K{i}" for i in range(1, CASES + 1)
    )  # none twice at Zendesk, whatever the kills
    assert len(set(slack.texts)) == 6 and len(smtp_to) == 3
    slack_repeats, smtp_repeats = len(slack.texts) - 6, sum(smtp_to.values()) - 3
    assert killed >= KILLS // 2  # most kills landed mid-run
    # at most the one message in flight per kill, at each destination without idempotency
    assert slack_repeats <= killed and smtp_repeats <= killed
    record_property("kills", killed)
    record_property("repeats_at_slack", slack_repeats)
    record_property("repeats_at_smtp", smtp_repeats)
    record_property("folded_at_zendesk", zendesk.repeats)
