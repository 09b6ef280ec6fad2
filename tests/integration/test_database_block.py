"""One database resource: the Patronage Database block is what the nightly, the CLI and the
work API use; operators pick it by name."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from patronage.cli import app
from patronage.flows.nightly import nightly
from patronage.resources.database import PatronageDatabase
from patronage.work import list_items

from factories import nightly_params

AS_OF = date(2026, 10, 31)


@pytest.mark.slow
def test_the_nightly_the_cli_and_the_work_api_use_the_named_block(tmp_path):
    file = tmp_path / "acme.db"
    saved = CliRunner().invoke(
        app, ["db", "save-block", "acme-database", "--url", f"sqlite:///{file}", "--overwrite"]
    )
    assert saved.exit_code == 0, saved.output
    assert "saved Patronage Database block acme-database" in saved.output

    summary = nightly(
        nightly_params(database_block="acme-database", as_of=AS_OF, queue_sizes={"retention": 7})
    )
    assert summary["queues"]["retention"] == 7 and file.exists()

    block = PatronageDatabase.load("acme-database")
    with block.engine() as engine:
        assert len(list_items(engine, "retention")) == 7

    shown = CliRunner().invoke(app, ["--database-block", "acme-database", "queues", "--top", "2"])
    assert shown.exit_code == 0, shown.output
    assert "Retention queue" in shown.output


def test_a_block_that_does_not_exist_is_named_in_one_line():
    result = CliRunner().invoke(app, ["--database-block", "no-such-block", "queues"])
    assert result.exit_code == 2
    assert "--database-block no-such-block" in result.output
    assert "Traceback" not in result.output


def test_a_password_in_the_block_url_is_refused_without_repeating_it():
    with pytest.raises(ValidationError, match="must not contain a password") as refused:
        PatronageDatabase(url="postgresql://app:hunter2@db.example/patronage")
    assert "hunter2" not in str(refused.value)
    result = CliRunner().invoke(
        app, ["db", "save-block", "leaky", "--url", "postgresql://app:hunter2@db/patronage"]
    )
    assert result.exit_code == 2 and "hunter2" not in result.output
