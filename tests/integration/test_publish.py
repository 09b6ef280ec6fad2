"""Publishing on SQLite and PostgreSQL: idempotent, people's fields kept, all-or-nothing."""

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import select

from patronage import work
from patronage.resources.database import make_engine
from patronage.schemas.tables import (
    idea_supporters,
    ideation_items,
    publish_runs,
    quarantine,
    retention_cases,
)
from patronage.tasks.io import publish_queues as publish_module
from patronage.tasks.io.publish_queues import publish_to_engine, queue_fingerprint

AS_OF = date(2026, 10, 31)


def retention(case_ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "case_id": f"RET-{c}",
                "customer_id": c,
                "value_tier": "core",
                "clv": 100.0,
                "value_at_risk": 50.0,
                "priority_score": 75.0 - i,
                "priority_rank": i + 1,
                "reason_codes": "latency_breach",
                "evidence": "{}",
                "goal": "Secure the next purchase",
                "playbook": "Reach out",
                "owner": "team:customer-care",
                "due_date": date(2026, 11, 7),
            }
            for i, c in enumerate(case_ids)
        ]
    )


def ideas() -> tuple[pd.DataFrame, pd.DataFrame]:
    items = pd.DataFrame(
        [
            {
                "idea_key": "IDEA-idea-I1",
                "title": "Dark mode",
                "n_mentions": 2,
                "n_supporters": 2,
                "customer_supporters": 1,
                "stakeholder_supporters": 1,
                "votes": 3,
                "priority_score": 7.5,
                "priority_rank": 1,
                "first_seen": pd.Timestamp("2026-01-01"),
                "last_activity": pd.Timestamp("2026-10-01"),
            }
        ]
    )
    supporters = pd.DataFrame(
        {
            "idea_key": ["IDEA-idea-I1"] * 2,
            "supporter_id": ["C1", "S1"],
            "supporter_kind": ["customer", "stakeholder"],
            "weight": [5.6, 2.0],
            "conversation_id": ["idea:I1", "post:P1"],
        }
    )
    return items, supporters


def quarantined() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dataset": ["orders"],
            "source": ["files:orders"],
            "row_key": ["O9"],
            "reasons": [["cast:amount"]],
            "raw_row": [{"order_id": "O9", "amount": '=HYPERLINK("x")'}],
        }
    )


def publish(engine, run_id: str, cases: list[str]) -> dict:
    items, supporters = ideas()
    return publish_to_engine(
        engine, run_id, None, AS_OF, retention(cases), items, supporters, quarantined()
    )


def rows(engine, table) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]


def test_publishing_the_same_input_twice_gives_an_identical_queue(database_url):
    engine = make_engine(database_url)
    publish(engine, "run-1", ["C1", "C2"])
    first = queue_fingerprint(engine)
    publish(engine, "run-2", ["C1", "C2"])
    assert queue_fingerprint(engine) == first
    assert len(rows(engine, publish_runs)) == 2
    assert len(rows(engine, quarantine)) == 1  # the same bad row is kept once, not twice
    engine.dispose()


def test_republish_keeps_peoples_work_and_soft_closes_what_is_gone(database_url):
    engine = make_engine(database_url)
    publish(engine, "run-1", ["C1", "C2", "C3", "C4"])
    work.claim(engine, "retention", "RET-C1", "agent-7")
    work.add_note(engine, "retention", "RET-C1", "called, will order next week", "agent-7")
    work.snooze(engine, "retention", "RET-C2", date(2099, 1, 1), "agent-7")
    work.add_note(engine, "retention", "RET-C4", "left a voicemail", "agent-8")
    work.set_idea_status(engine, "IDEA-idea-I1", "under_review", "pm-1")
    with engine.connect() as conn:
        before = {r.case_id: r for r in conn.execute(select(retention_cases))}
    publish(engine, "run-2", ["C2", "C4"])  # C1 (claimed) and C3 (untouched) no longer produced
    with engine.connect() as conn:
        got = {r.case_id: r for r in conn.execute(select(retention_cases))}
        idea = conn.execute(select(ideation_items)).one()
    assert (got["RET-C1"].status, got["RET-C1"].assignee) == ("in_progress", "agent-7")
    assert got["RET-C1"].claimed_at == before["RET-C1"].claimed_at
    assert got["RET-C1"].pipeline_state == "open"  # claimed items are never closed
    assert got["RET-C2"].snoozed_until == date(2099, 1, 1)
    assert got["RET-C3"].pipeline_state == "closed"
    assert got["RET-C3"].closed_reason == "no longer at risk or below the queue cut-off"
    assert got["RET-C4"].opened_at == before["RET-C4"].opened_at
    assert (idea.status, idea.pipeline_state) == ("under_review", "open")
    log = work.notes(engine, "retention", "RET-C1")
    assert list(log["action"]) == ["claim", "note"]
    assert log["detail"].iloc[1] == "called, will order next week"
    assert list(work.notes(engine, "retention", "RET-C4")["actor"]) == ["agent-8"]
    engine.dispose()


def test_error_mid_publish_leaves_the_previous_queue_intact(database_url, monkeypatch):
    engine = make_engine(database_url)
    publish(engine, "run-1", ["C1"])
    before = {t.name: rows(engine, t) for t in (retention_cases, ideation_items, idea_supporters)}

    def broken_soft_close(*args, **kwargs):
        raise RuntimeError("injected failure after the upserts")

    monkeypatch.setattr(publish_module, "soft_close_missing", broken_soft_close)
    with pytest.raises(RuntimeError, match="injected failure"):
        publish(engine, "run-2", ["C1", "C2", "C3"])
    after = {t.name: rows(engine, t) for t in (retention_cases, ideation_items, idea_supporters)}
    assert after == before
    assert [r[0] for r in rows(engine, publish_runs)] == ["run-1"]
    engine.dispose()


def test_quarantine_keeps_hostile_text_verbatim(database_url):
    engine = make_engine(database_url)
    publish(engine, "run-1", ["C1"])
    with engine.connect() as conn:
        raw = conn.execute(select(quarantine.c.raw_row, quarantine.c.first_seen)).one()
    assert '"=HYPERLINK(\\"x\\")"' in raw.raw_row
    assert isinstance(raw.first_seen, datetime)
    engine.dispose()


def test_an_older_table_layout_is_refused_with_table_and_columns_named(tmp_path):
    from sqlalchemy import text

    from patronage.resources.database import SchemaMismatchError, ensure_schema

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE publish_runs (run_id VARCHAR(64) PRIMARY KEY, as_of DATE)"))
    with pytest.raises(
        SchemaMismatchError,
        match=r"table publish_runs lacks column\(s\) flow_run_id, published_at, counts",
    ):
        ensure_schema(engine)
    engine.dispose()
