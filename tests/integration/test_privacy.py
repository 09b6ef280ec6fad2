"""Erasure: a person who asks to be forgotten is gone from every table and stays gone."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import String, Text, select

from patronage.flows.nightly import nightly
from patronage.resources.database import make_engine
from patronage.schemas.tables import metadata, privacy_requests
from patronage.tasks.io.privacy import NOT_PERSONAL_COLUMNS, PERSONAL_DATA, erase, load_privacy_key
from patronage.tasks.transforms.privacy.suppression import identifier_hmac, suppressed_mask
from patronage.work import add_note, list_items

from factories import nightly_params

PATRONAGE = str(Path(sys.executable).with_name("patronage"))
AS_OF = date(2026, 10, 31)


def test_every_table_and_column_has_an_erasure_decision():
    """Fails when later work adds a table (or a column to a table said to hold no personal
    data) without deciding how erasure covers it."""
    tables = {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
    assert set(PERSONAL_DATA) == set(tables)
    for name, how in PERSONAL_DATA.items():
        assert how in ("row", "none"), name
        if how == "none":
            assert set(NOT_PERSONAL_COLUMNS[name]) == tables[name], name


def test_a_suppressed_customer_reveals_their_other_identifiers():
    key = b"k"
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "email": ["Ann.Lee@Example.com", "bo@example.com"],
            "phone": ["", ""],
            "social_handles": ["twitter:@AnnLee", ""],
        }
    )
    mask, learned = suppressed_mask(
        "customers", customers, {identifier_hmac(key, "customer:C1")}, key
    )
    assert mask.tolist() == [True, False]
    assert identifier_hmac(key, "email:ann.lee@example.com") in learned
    posts = pd.DataFrame(
        {"author_handle": ["annlee", "someone"], "platform": ["twitter", "twitter"]}
    )
    mask, _ = suppressed_mask("social_posts", posts, learned, key)
    assert mask.tolist() == [True, False]


def _everything(url: str) -> str:
    """Every text cell of every table, as one string."""
    engine = make_engine(url)
    parts = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, (String, Text))]
            if cols:
                for row in conn.execute(select(*cols)).all():
                    parts += [str(v) for v in row if v is not None]
    engine.dispose()
    return "\n".join(parts)


@pytest.mark.slow
def test_an_erased_customer_is_gone_everywhere_and_stays_gone(
    sample_company, database_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("PATRONAGE_HOME", str(tmp_path / "home"))
    exports = sample_company[0]
    params = nightly_params(data_location=str(exports), database_url=database_url, as_of=AS_OF)
    nightly(params)
    engine = make_engine(database_url)
    case = list_items(engine, "retention").iloc[0]
    add_note(engine, "retention", case["case_id"], "spoke to them, upset about delivery", "ben")
    customer = case["customer_id"]
    crm = pd.read_csv(exports / "crm" / "customers.csv", dtype=str, keep_default_na=False)
    person = crm.set_index("customer_id").loc[customer]
    assert customer in _everything(database_url)

    counts = erase(engine, customer_id=customer, actor="dpo", key=load_privacy_key())
    assert counts["retention_cases"] == 1 and counts["work_log"] >= 1
    assert counts["customer_scores"] == 1 and counts["suppressed"] >= 1
    stored = _everything(database_url)
    for trace in (customer, person["email"], person["name"]):
        assert trace not in stored, trace

    again = nightly(params)  # the same exports, pulled again
    assert again["erased_rows_dropped"]["customers"] == 1
    assert again["erased_rows_dropped"]["orders"] >= 1
    stored = _everything(database_url)
    for trace in (customer, person["email"], person["name"]):
        assert trace not in stored, trace
    with engine.connect() as conn:
        audit = conn.execute(select(privacy_requests)).mappings().all()
    engine.dispose()
    assert [a["action"] for a in audit] == ["erase"] and audit[0]["actor"] == "dpo"
    assert customer not in json.dumps([dict(a) for a in audit], default=str)


@pytest.mark.slow
def test_privacy_commands_as_a_data_protection_officer_runs_them(sample_company, tmp_path):
    env = {
        "PATH": str(Path(sys.executable).parent),
        "PATRONAGE_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    import os

    env = {**os.environ, **env}
    url = f"sqlite:///{tmp_path / 'p.db'}"
    nightly(nightly_params(data_location=str(sample_company[0]), database_url=url, as_of=AS_OF))
    customer = list_items(make_engine(url), "retention").iloc[0]["customer_id"]

    def cli(*args):
        return subprocess.run(
            [PATRONAGE, "privacy", *args, "--database-url", url, "--worker", "dpo"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )

    exported = cli("export", "--customer", customer, "-o", str(tmp_path / "subject.json"))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    held = json.loads((tmp_path / "subject.json").read_text())
    assert f"customer:{customer}" in held["identifiers"]
    assert [c["customer_id"] for c in held["retention_cases"]] == [customer]
    erased = cli("erase", "--customer", customer)
    assert erased.returncode == 0, erased.stdout + erased.stderr
    assert "erased:" in erased.stdout and "suppressed" in erased.stdout
    neither = cli("erase")
    assert neither.returncode == 2 and "exactly one of --customer" in neither.stdout
    bad = cli("erase", "--identity", "nonsense")
    assert bad.returncode == 2 and "email:ADDRESS" in bad.stdout
