"""Customer text is untrusted input: a NUL byte or a byte that is not UTF-8 costs one row at
most, never the night, on either database."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from patronage.flows.nightly import nightly
from patronage.resources.database import make_engine
from patronage.schemas.contracts import CONTRACTS
from patronage.schemas.tables import quarantine
from patronage.tasks.transforms.validation.stage_dataset import stage_dataset
from patronage.tasks.transforms.validation.storable_text import escape_unstorable
from patronage.work.quarantine import list_quarantine

from factories import nightly_params

AS_OF = date(2026, 10, 31)


def test_nul_is_removed_and_counted_and_unreadable_bytes_are_named():
    raw = pd.DataFrame(
        {
            "idea_id": ["I1", "I2", "I3"],
            "title": ["Dark\x00 mode", "Gift cards", "Bad \uf7ff byte"],
            "created_at": ["2026-10-01T00:00:00Z"] * 3,
        }
    )
    staged = stage_dataset(raw, CONTRACTS["ideas"])
    assert staged.frame["title"].tolist()[:2] == ["Dark mode", "Gift cards"]
    assert staged.normalised_cells == 1
    assert staged.unreadable == {2: ["title"]}
    assert escape_unstorable("a\x00b\uf7ffc") == "a\\x00b\\xffc"


@pytest.mark.slow
def test_hostile_text_costs_one_row_and_the_night_publishes(sample_company, tmp_path, database_url):
    exports = tmp_path / "exports"
    shutil.copytree(sample_company[0], exports)
    posts = exports / "social" / "posts.jsonl"
    lines = posts.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["text"] = "great\x00service"  # JSON carries it as \\u0000
    lines[0] = json.dumps(first)
    posts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tickets = exports / "support" / "tickets.jsonl"
    raw = tickets.read_bytes().split(b"\n")
    broken_id, arrived_body = (json.loads(raw[1])[k] for k in ("ticket_id", "body"))
    raw[1] = raw[1].replace(b'"body":"', b'"body":"caf\xe9 latte \xff ', 1)  # Latin-1, not UTF-8
    tickets.write_bytes(b"\n".join(raw))

    summary = nightly(
        nightly_params(data_location=str(exports), database_url=database_url, as_of=AS_OF)
    )
    assert summary["published"] is True
    assert summary["datasets"]["social_posts"]["normalised"] == 1
    assert summary["datasets"]["social_posts"]["quarantined"] == 0
    assert summary["datasets"]["tickets"]["quarantined"] == 1
    engine = make_engine(database_url)
    entries = list_quarantine(engine, "tickets")
    assert entries["row_key"].tolist() == [broken_id]
    assert entries["failed_expectations"].tolist() == ["not_utf8:body"]
    with engine.connect() as conn:
        stored = conn.execute(
            select(quarantine.c.raw_row).where(
                (quarantine.c.dataset == "tickets") & (quarantine.c.row_key == broken_id)
            )
        ).scalar_one()
    engine.dispose()
    # the person fixing it can see what arrived
    assert json.loads(stored)["body"] == "caf\\xe9 latte \\xff " + arrived_body
