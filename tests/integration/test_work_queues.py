"""Working the queues on SQLite and PostgreSQL: claims under concurrency, the idea lifecycle and
its outbox, merges, resolutions and episodes, exports."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from test_publish import AS_OF, retention

from patronage import work
from patronage.resources.database import make_engine
from patronage.schemas.tables import idea_supporters, ideation_items, outbox, retention_cases
from patronage.tasks.io.publish_queues import publish_to_engine

from factories import REPO

EMPTY_QUARANTINE = pd.DataFrame(columns=["dataset", "source", "row_key", "reasons", "raw_row"])


def two_ideas() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Idea A (backed by C1 and S1) and its duplicate B (backed by C1 and C2)."""
    items = pd.DataFrame(
        [
            {
                "idea_key": key,
                "title": title,
                "n_mentions": 2,
                "n_supporters": 2,
                "customer_supporters": customers,
                "stakeholder_supporters": 2 - customers,
                "votes": votes,
                "priority_score": score,
                "priority_rank": rank,
                "first_seen": pd.Timestamp(first),
                "last_activity": pd.Timestamp("2026-10-01"),
            }
            for key, title, customers, votes, score, rank, first in [
                ("IDEA-A", "Dark mode", 1, 10, 9.0, 1, "2026-01-01"),
                ("IDEA-B", "Dark theme please", 2, 4, 6.0, 2, "2026-02-01"),
            ]
        ]
    )
    supporters = pd.DataFrame(
        {
            "idea_key": ["IDEA-A", "IDEA-A", "IDEA-B", "IDEA-B"],
            "supporter_id": ["C1", "S1", "C1", "C2"],
            "supporter_kind": ["customer", "stakeholder", "customer", "customer"],
            "weight": [5.0, 2.0, 5.0, 4.0],
            "conversation_id": ["idea:I1", "post:P1", "idea:I2", "idea:I3"],
        }
    )
    return items, supporters


def publish(engine, run_id: str, cases: list[str], ideas=None, **kwargs) -> dict:
    items, supporters = ideas or two_ideas()
    return publish_to_engine(
        engine, run_id, None, AS_OF, retention(cases), items, supporters, EMPTY_QUARANTINE, **kwargs
    )


def outbox_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(
                    outbox.c.event_id, outbox.c.recipient_id, outbox.c.kind, outbox.c.idea_key
                ).order_by(outbox.c.id)
            )
        ]


def test_two_processes_claiming_at_once_never_take_the_same_item(database_url, tmp_path):
    engine = make_engine(database_url)
    cases = [f"C{i:03d}" for i in range(80)]
    publish(engine, "run-1", cases)
    engine.dispose()
    barrier = tmp_path / "ready"
    barrier.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).parent / "claim_worker.py"),
                database_url,
                name,
                str(barrier),
                "2",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in ("worker-a", "worker-b")
    ]
    claimed, windows = [], []
    for process in workers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        *keys, window = out.splitlines()
        claimed.append(keys)
        windows.append([float(t) for t in window.split()])
    a, b = (set(c) for c in claimed)
    assert len(claimed[0]) == len(a) and len(claimed[1]) == len(b)
    assert not a & b, f"claimed twice: {sorted(a & b)}"
    assert a | b == {f"RET-{c}" for c in cases}
    # Both were claiming at the same time (on SQLite one may still get few or none: the lock
    # goes to whoever asks first, and a waiting process only retries now and then).
    (start_a, end_a), (start_b, end_b) = windows
    assert start_a < end_b and start_b < end_a, windows
    engine = make_engine(database_url)
    with engine.connect() as conn:
        holders = dict(
            conn.execute(select(retention_cases.c.case_id, retention_cases.c.assignee)).all()
        )
    assert {k for k, v in holders.items() if v == "worker-a"} == a
    engine.dispose()


def test_claim_errors_name_the_item_and_the_holder(database_url):
    engine = make_engine(database_url)
    publish(engine, "run-1", ["C1"])
    work.claim(engine, "retention", "RET-C1", "ann")
    work.claim(engine, "retention", "RET-C1", "ann")  # holding it already: no-op
    with pytest.raises(
        work.AlreadyClaimed, match="retention item RET-C1 is already claimed by ann"
    ):
        work.claim(engine, "retention", "RET-C1", "bob")
    with pytest.raises(work.ItemNotFound, match="retention queue has no item 'RET-C9'"):
        work.claim(engine, "retention", "RET-C9", "bob")
    with pytest.raises(work.AlreadyClaimed, match="held by ann, not bob"):
        work.release(engine, "retention", "RET-C1", "bob")
    work.release(engine, "retention", "RET-C1", "ann")
    assert work.claim_next(engine, "retention", "bob") == "RET-C1"
    assert work.claim_next(engine, "retention", "bob") is None
    engine.dispose()


def test_snoozed_items_leave_the_work_list_until_their_date(database_url):
    engine = make_engine(database_url)
    publish(engine, "run-1", ["C1", "C2"])
    work.snooze(engine, "retention", "RET-C1", date(2099, 1, 1), "ann")
    assert list(work.list_items(engine, "retention")["case_id"]) == ["RET-C2"]
    assert work.claim_next(engine, "retention", "ann") == "RET-C2"
    assert work.claim_next(engine, "retention", "ann") is None
    assert list(
        work.list_items(engine, "retention", today=date(2099, 1, 1), assignee=None)["case_id"]
    ) == ["RET-C1", "RET-C2"]
    with pytest.raises(work.WorkError, match="must be after today"):
        work.snooze(engine, "retention", "RET-C2", date(2000, 1, 1), "ann")
    engine.dispose()


def test_idea_status_lifecycle_notifies_every_supporter_exactly_once_per_change(database_url):
    engine = make_engine(database_url)
    publish(engine, "run-1", ["C1"])
    with pytest.raises(
        work.InvalidTransition,
        match="idea IDEA-A is new; it can move to under_review, declined, not shipped",
    ):
        work.set_idea_status(engine, "IDEA-A", "shipped", "pm")
    assert work.set_idea_status(engine, "IDEA-A", "under_review", "pm") == 2
    assert work.set_idea_status(engine, "IDEA-A", "under_review", "pm") == 0  # no change, no news
    assert work.set_idea_status(engine, "IDEA-A", "planned", "pm") == 2
    publish(engine, "run-2", ["C1"])  # a nightly in between changes nothing of this
    assert work.set_idea_status(engine, "IDEA-A", "shipped", "pm") == 2
    rows = outbox_rows(engine)
    assert len(rows) == 6 and len({(e, r) for e, r, _, _ in rows}) == 6
    assert sorted(r for e, r, _, _ in rows if e == rows[-1][0]) == ["C1", "S1"]
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(ideation_items.c.status).where(ideation_items.c.idea_key == "IDEA-A")
            ).scalar()
            == "shipped"
        )
    with pytest.raises(work.InvalidTransition, match="it can move to nothing"):
        work.set_idea_status(engine, "IDEA-A", "declined", "pm")
    engine.dispose()


def test_an_idea_merge_moves_votes_and_supporters_and_nobody_is_notified_twice(database_url):
    engine = make_engine(database_url)
    publish(engine, "run-1", ["C1"])
    assert work.set_idea_status(engine, "IDEA-A", "under_review", "pm") == 2  # C1, S1
    result = work.merge_ideas(engine, "IDEA-B", "IDEA-A", "pm")
    # C1 backs both: kept once and not told again; C2 moves and hears where the idea went.
    assert result == {"moved": 1, "already_supporting": 1, "notified": 1}
    with engine.connect() as conn:
        items = {r.idea_key: r for r in conn.execute(select(ideation_items))}
        backers = sorted(
            conn.execute(select(idea_supporters.c.idea_key, idea_supporters.c.supporter_id)).all()
        )
    assert (items["IDEA-A"].votes, items["IDEA-A"].n_supporters, items["IDEA-A"].n_mentions) == (
        14,
        3,
        4,
    )
    assert (items["IDEA-A"].customer_supporters, items["IDEA-A"].stakeholder_supporters) == (2, 1)
    assert (items["IDEA-B"].merged_into, items["IDEA-B"].pipeline_state) == ("IDEA-A", "closed")
    assert backers == [("IDEA-A", "C1"), ("IDEA-A", "C2"), ("IDEA-A", "S1")]
    assert work.set_idea_status(engine, "IDEA-A", "planned", "pm") == 3
    per_person = pd.Series(
        [r for _, r, kind, _ in outbox_rows(engine) if kind == "idea_status_changed"]
    ).value_counts()
    assert per_person.to_dict() == {"C1": 2, "S1": 2, "C2": 1}  # one per change each
    # The next nightly still finds B: it stays merged and closed; A keeps everyone.
    publish(engine, "run-2", ["C1"])
    with engine.connect() as conn:
        b = conn.execute(select(ideation_items).where(ideation_items.c.idea_key == "IDEA-B")).one()
        backers = sorted(
            conn.execute(select(idea_supporters.c.idea_key, idea_supporters.c.supporter_id)).all()
        )
    assert (b.merged_into, b.pipeline_state) == ("IDEA-A", "closed")
    assert ("IDEA-B", "C2") not in backers
    with pytest.raises(work.InvalidTransition, match="IDEA-B was merged into IDEA-A"):
        work.set_idea_status(engine, "IDEA-B", "declined", "pm")
    engine.dispose()


def test_a_resolved_case_stays_resolved_and_a_new_episode_opens_after_the_cool_down(database_url):
    engine = make_engine(database_url)
    publish(engine, "run-1", ["C1"])
    work.claim(engine, "retention", "RET-C1", "ann")
    work.resolve_case(engine, "RET-C1", "retained", "ann", note="ordered again")
    with pytest.raises(work.InvalidTransition, match="already resolved"):
        work.resolve_case(engine, "RET-C1", "lost", "ann")
    publish(engine, "run-2", ["C1"])  # still at risk, inside the 30-day cool-down
    assert work.list_items(engine, "retention").empty
    publish(engine, "run-3", ["C1"], reopen_after_days=0)
    with engine.connect() as conn:
        cases = {
            r.case_id: (r.status, r.outcome, r.pipeline_state)
            for r in conn.execute(select(retention_cases))
        }
    assert cases == {"RET-C1": ("resolved", "retained", "open"), "RET-C1-2": ("open", None, "open")}
    assert list(work.list_items(engine, "retention")["case_id"]) == ["RET-C1-2"]
    publish(engine, "run-4", ["C1"], reopen_after_days=0)  # the open episode continues
    with engine.connect() as conn:
        assert conn.execute(select(retention_cases.c.case_id)).scalars().all() == [
            "RET-C1",
            "RET-C1-2",
        ]
    engine.dispose()


def test_export_escapes_formulas_in_csv_and_keeps_types_in_parquet(database_url, tmp_path):
    engine = make_engine(database_url)
    cases = retention(["C1", "C2"])
    cases.loc[0, "goal"] = '=HYPERLINK("http://evil","x")'
    cases.loc[0, "owner"] = "@SUM(A1)"
    cases.loc[1, "goal"] = "+1 call"
    cases.loc[1, "owner"] = "-team"
    items, supporters = two_ideas()
    publish_to_engine(engine, "run-1", None, AS_OF, cases, items, supporters, EMPTY_QUARANTINE)
    assert work.export_queue(engine, "retention", tmp_path / "q.csv") == 2
    with open(tmp_path / "q.csv", newline="") as handle:
        rows = {r["case_id"]: r for r in csv.DictReader(handle)}
    assert rows["RET-C1"]["goal"] == '\'=HYPERLINK("http://evil","x")'
    assert rows["RET-C1"]["owner"] == "'@SUM(A1)"
    assert (rows["RET-C2"]["goal"], rows["RET-C2"]["owner"]) == ("'+1 call", "'-team")
    assert rows["RET-C1"]["value_at_risk"] == "50.0"
    assert work.export_queue(engine, "retention", tmp_path / "q.parquet") == 2
    back = pd.read_parquet(tmp_path / "q.parquet")
    assert back.set_index("case_id").loc["RET-C1", "goal"] == '=HYPERLINK("http://evil","x")'
    assert back["value_at_risk"].dtype == "float64"
    with pytest.raises(work.WorkError, match="must end in .csv or .parquet"):
        work.export_queue(engine, "retention", tmp_path / "q.xlsx")
    engine.dispose()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+49 30", "'+49 30"),
        ("-x", "'-x"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (-12.5, -12.5),
        (None, None),
    ],
)
def test_escape_formula(value, expected):
    assert work.escape_formula(value) == expected


def test_notes_of_an_unknown_queue_are_refused():
    with pytest.raises(
        work.WorkError, match="queue must be one of retention, ideation, not 'sales'"
    ):
        work.add_note(None, "sales", "X", "hi", "ann")


def test_assign_case_episodes():
    from patronage.tasks.transforms.queues.case_episodes import assign_case_episodes

    now = datetime(2026, 11, 22, tzinfo=UTC).replace(tzinfo=None)
    produced = pd.DataFrame(
        {
            "case_id": ["RET-C1", "RET-C2", "RET-C3", "RET-C4"],
            "customer_id": ["C1", "C2", "C3", "C4"],
        }
    )
    existing = pd.DataFrame(
        {
            "case_id": ["RET-C1", "RET-C2", "RET-C3", "RET-C3-2"],
            "customer_id": ["C1", "C2", "C3", "C3"],
            "status": ["in_progress", "resolved", "resolved", "resolved"],
            "opened_at": [now - timedelta(days=90)] * 3 + [now - timedelta(days=40)],
            "resolved_at": [
                None,
                now - timedelta(days=5),
                now - timedelta(days=60),
                now - timedelta(days=31),
            ],
        }
    )
    got = assign_case_episodes(produced, existing, now, reopen_after_days=30)
    assert list(got) == ["RET-C1", "RET-C2", "RET-C3-3", "RET-C4"]


def test_a_publish_during_a_claim_waits_for_it_and_both_land(database_url):
    import threading

    from patronage.resources.database import lock_for_writing

    engine = make_engine(database_url)
    publish(engine, "run-1", ["C1", "C2"])
    holding = threading.Event()

    def slow_claim() -> None:
        with engine.connect() as conn:  # as claim_next takes an item, held open for a while
            if conn.dialect.name == "sqlite":
                lock_for_writing(conn)
            conn.execute(
                select(retention_cases.c.case_id)
                .where(retention_cases.c.case_id == "RET-C1")
                .with_for_update(skip_locked=True)
            )
            conn.execute(
                retention_cases.update()
                .where(retention_cases.c.case_id == "RET-C1")
                .values(assignee="ann", status="in_progress")
            )
            holding.set()
            time.sleep(1.5)
            conn.commit()

    worker = threading.Thread(target=slow_claim)
    worker.start()
    holding.wait(10)
    publish(engine, "run-2", ["C2"])  # would soft-close C1 were the claim not waited for
    worker.join()
    with engine.connect() as conn:
        c1 = conn.execute(
            select(retention_cases).where(retention_cases.c.case_id == "RET-C1")
        ).one()
    assert (c1.assignee, c1.status, c1.pipeline_state) == ("ann", "in_progress", "open")
    engine.dispose()


def test_the_work_command_line(tmp_path):
    from typer.testing import CliRunner

    from patronage.cli import app

    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = make_engine(url)
    publish(engine, "run-1", ["C1", "C2"])
    engine.dispose()
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [*args, "--database-url", url], env={"PATRONAGE_WORKER": "ann"})

    assert run("work", "claim").stdout.strip() == "RET-C1"
    assert run("work", "note", "RET-C1", "called").exit_code == 0
    shown = run("work", "show", "RET-C1")
    assert "assignee: ann" in shown.stdout and "called" in shown.stdout
    refused = run("work", "resolve", "RET-C1", "--outcome", "maybe")
    assert refused.exit_code == 2 and "outcome for RET-C1 must be one of" in refused.stdout
    assert run("work", "resolve", "RET-C1", "--outcome", "retained").exit_code == 0
    assert "RET-C1" not in run("work", "list").stdout
    assert run("work", "export", "--out", str(tmp_path / "q.parquet")).exit_code == 0
    assert list(pd.read_parquet(tmp_path / "q.parquet")["case_id"]) == ["RET-C2"]
    assert run("ideas", "status", "IDEA-A", "--to", "under_review").stdout.startswith(
        "IDEA-A is under_review; 2 supporter notification(s) queued"
    )
