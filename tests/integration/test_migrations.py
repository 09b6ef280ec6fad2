"""Schema migrations on SQLite and PostgreSQL: head equals the models, a database from before
migrations is upgraded with its people's notes kept, and the way back works."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from patronage.resources.database import (
    alembic_config,
    ensure_schema,
    forget_schema_check,
    head_revision,
    make_engine,
)
from patronage.schemas.tables import metadata


def test_the_newest_migration_builds_exactly_the_models(database_url):
    engine = make_engine(database_url)
    ensure_schema(engine)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert diff == []
    assert version == head_revision() == "0013"
    engine.dispose()


def _first_release_database(engine) -> None:
    """What the first release left behind: its tables (made by create_all), no history, and a
    case someone had claimed and written a note on."""
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(
            text(
                "INSERT INTO retention_cases (case_id, customer_id, value_tier, clv, value_at_risk, "
                "priority_score, priority_rank, reason_codes, evidence, goal, playbook, owner, due_date, "
                "pipeline_state, status, assignee, notes) VALUES ('RET-C1', 'C1', 'core', 10, 5, 7, 1, "
                "'latency_breach', '{}', 'g', 'p', 'team:care', '2026-11-07', 'open', 'in_progress', "
                "'agent-7', 'called twice')"
            )
        )
        conn.commit()


def test_a_database_from_before_migrations_is_upgraded_and_keeps_peoples_work(database_url):
    from patronage import work

    engine = make_engine(database_url)
    _first_release_database(engine)
    ensure_schema(engine)
    items = work.list_items(engine, "retention")
    assert (items.loc[0, "case_id"], items.loc[0, "status"], items.loc[0, "assignee"]) == (
        "RET-C1",
        "in_progress",
        "agent-7",
    )
    log = work.notes(engine, "retention", "RET-C1")
    assert (log.loc[0, "action"], log.loc[0, "actor"], log.loc[0, "detail"]) == (
        "note",
        "agent-7",
        "called twice",
    )
    assert "notes" not in {c["name"] for c in inspect(engine).get_columns("retention_cases")}
    engine.dispose()


def test_downgrade_to_the_first_release_puts_notes_back(database_url):
    from patronage import work

    engine = make_engine(database_url)
    _first_release_database(engine)
    ensure_schema(engine)
    work.add_note(engine, "retention", "RET-C1", "then emailed", "agent-7")
    with engine.connect() as conn:
        command.downgrade(alembic_config(conn), "0001")
        conn.commit()
        notes = conn.execute(
            text("SELECT notes FROM retention_cases WHERE case_id = 'RET-C1'")
        ).scalar()
    assert notes == "called twice\nthen emailed"
    assert not inspect(engine).has_table("work_log")
    forget_schema_check(engine)  # the downgrade went behind ensure_schema's back
    ensure_schema(engine)  # and up again: the joined notes come back as one entry
    assert list(work.notes(engine, "retention", "RET-C1")["detail"]) == [
        "called twice\nthen emailed"
    ]
    engine.dispose()


def test_a_night_reads_a_database_an_earlier_release_published(database_url):
    """The night's first reads name columns the earlier release lacked (0009): reading brings
    the schema forward first, and what was stored is kept."""
    from patronage.resources.database import PatronageDatabase
    from patronage.tasks.io.phone_keys import read_phone_keys
    from patronage.tasks.io.text_embeddings import read_text_embeddings

    engine = make_engine(database_url)
    with engine.connect() as conn:
        command.upgrade(alembic_config(conn), "0008")
        conn.execute(
            text(
                "INSERT INTO text_embeddings (model_id, text_hash, vector, created_at) "
                "VALUES ('m', 'ab', :v, '2026-10-31 02:00:00')"
            ),
            {"v": b"\x00\x00\x80\x3f"},
        )
        conn.execute(
            text(
                "INSERT INTO contact_points (customer_id, email, opted_out, updated_at) "
                "VALUES ('C1', 'a@example.test', 0, '2026-10-31 02:00:00')"
            )
        )
        conn.commit()
    engine.dispose()
    database = PatronageDatabase(url=database_url)
    vectors, languages, readings = read_text_embeddings.fn(database, "m")
    assert {h: v.tolist() for h, v in vectors.items()} == {b"\xab": [1.0]}
    assert languages == {} and readings == {}
    assert read_phone_keys.fn(database, "US").empty
    engine = make_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0013"
    engine.dispose()
