"""What a person touched survives the pipeline; a password never shows; the CLI fails in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from patronage.config import QueueSizes
from patronage.flows.nightly import nightly
from patronage.resources.database import make_engine
from patronage.schemas.tables import retention_cases
from patronage.work import add_note, get_item, list_items, snooze

from factories import nightly_params

PATRONAGE = str(Path(sys.executable).with_name("patronage"))
AS_OF = date(2026, 10, 31)


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PATRONAGE, *args], capture_output=True, text=True, timeout=300, env=env or os.environ
    )


@pytest.mark.slow
def test_snoozed_and_noted_cases_stay_when_they_drop_out_of_the_queue(sample_company, database_url):
    params = nightly_params(
        data_location=str(sample_company[0]), database_url=database_url, as_of=AS_OF
    )
    nightly(params)
    engine = make_engine(database_url)
    ranked = list_items(engine, "retention")["case_id"].tolist()
    snoozed, noted, untouched = ranked[10], ranked[11], ranked[12]
    back_on = date.today() + timedelta(days=3)
    snooze(engine, "retention", snoozed, back_on, "anna")
    add_note(engine, "retention", noted, "called, will order next week", "ben")

    nightly(params.model_copy(update={"queue_sizes": QueueSizes(retention=5)}))
    with engine.connect() as conn:
        state = dict(
            conn.execute(
                select(retention_cases.c.case_id, retention_cases.c.pipeline_state).where(
                    retention_cases.c.case_id.in_([snoozed, noted, untouched])
                )
            ).all()
        )
    assert state == {snoozed: "open", noted: "open", untouched: "closed"}
    # the snoozed case comes back on its date
    later = list_items(engine, "retention", today=back_on)["case_id"].tolist()
    assert snoozed in later and snoozed not in list_items(engine, "retention")["case_id"].tolist()
    assert get_item(engine, "retention", noted)["pipeline_state"] == "open"
    engine.dispose()


def test_a_password_in_a_database_url_is_refused_without_being_repeated(tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        nightly_params(database_url="postgresql://u:hunter2@db.example/patronage")
    assert "must not contain a password" in str(refused.value)
    assert "hunter2" not in str(refused.value)
    for command in (["queues"], ["run"], ["work", "list"], ["db", "upgrade"]):
        done = _cli(*command, "--database-url", "postgresql://u:hunter2@db.example/patronage")
        assert done.returncode == 2, command
        assert "must not contain a password" in done.stdout
        assert "hunter2" not in done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr


def test_reading_a_database_that_is_not_there_does_not_create_it(tmp_path):
    typo = tmp_path / "patronag.db"
    for command in (["queues"], ["work", "list"], ["quarantine", "list"]):
        done = _cli(*command, "--database-url", f"sqlite:///{typo}")
        assert done.returncode == 2, command
        assert f"no Patronage database at {typo}" in done.stdout.replace("\n", "")
    assert not typo.exists()


@pytest.mark.slow
def test_the_password_comes_from_a_secret_block_on_every_command(postgres_url, tmp_path):
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    save = "from prefect.blocks.system import Secret; Secret(value='any').save('pg-pass')"
    subprocess.run([sys.executable, "-c", save], env=env, check=True, timeout=300)
    upgraded = _cli("db", "upgrade", "--database-url", postgres_url, env=env)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    done = _cli(
        "--database-password-secret", "pg-pass", "queues", "--database-url", postgres_url, env=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Retention queue" in done.stdout
    missing = _cli(
        "--database-password-secret", "nope", "queues", "--database-url", postgres_url, env=env
    )
    assert missing.returncode != 0


@pytest.mark.slow
def test_a_missing_column_is_one_clear_line_and_exit_2(sample_company, tmp_path):
    import shutil

    import pandas as pd

    exports = tmp_path / "exports"
    shutil.copytree(sample_company[0], exports)
    orders = exports / "crm" / "orders.csv"
    pd.read_csv(orders, dtype=str).drop(columns="amount").to_csv(orders, index=False)
    done = _cli(
        "run",
        "--data",
        str(exports),
        "--as-of",
        "2026-10-31",
        "--database-url",
        f"sqlite:///{tmp_path / 'p.db'}",
    )
    assert done.returncode == 2
    assert "orders: missing column(s) amount" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
