"""People teach the text models: a case resolved as "not a churn threat" changes how the next
night reads that conversation (and texts that say the same)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from patronage.flows.nightly import nightly
from patronage.resources.database import make_engine
from patronage.tasks.transforms.text.text_classifier import read_seed, seed_version
from patronage.tasks.transforms.text.text_encoder import load_encoder
from patronage.tasks.transforms.text.text_signals import spread_corrections
from patronage.work import get_item, list_items, resolve_case

from factories import nightly_params

AS_OF = date(2026, 10, 31)
PATRONAGE = str(Path(sys.executable).with_name("patronage"))


def test_a_correction_spreads_only_to_nearly_identical_texts():
    x = np.array([[1.0, 0.0], [0.99, 0.141], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
    ruled = [frozenset({"churn_threat"}), frozenset(), frozenset(), frozenset({"complaint"})]
    assert spread_corrections(x, ruled) == [
        frozenset({"churn_threat"}),
        frozenset({"churn_threat"}),
        frozenset(),
        frozenset({"complaint"}),
    ]


def _churn_items(engine) -> dict[str, str]:
    """conversation id → case id, for every churn_threat item in any case's evidence."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT case_id, evidence FROM retention_cases")).all()
    return {
        item["conversation_id"]: case_id
        for case_id, evidence in rows
        for item in json.loads(evidence)["items"]
        if item.get("intent") == "churn_threat"
    }


def _cases_with_another_reason(engine) -> set[str]:
    """Cases opened for more than a churn threat: ruling the threat out leaves them open, so
    the next night writes their evidence again (a case it no longer produces keeps the
    evidence it was resolved on)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT case_id, reason_codes FROM retention_cases")).all()
    return {case_id for case_id, codes in rows if set(codes.split(",")) - {"churn_threat"}}


@pytest.mark.slow
def test_resolving_as_not_a_churn_threat_changes_the_next_nights_reading(sample_company, tmp_path):
    url = f"sqlite:///{tmp_path / 'patronage.db'}"
    params = nightly_params(data_location=str(sample_company[0]), database_url=url, as_of=AS_OF)
    nightly(params)
    engine = make_engine(url)
    before = _churn_items(engine)
    assert before, "the sample company has churn threats"
    kept = _cases_with_another_reason(engine)
    conversation_id, case_id = next(item for item in sorted(before.items()) if item[1] in kept)
    resolve_case(engine, case_id, "not_a_churn_threat", "anna")
    with engine.connect() as conn:
        recorded = conn.execute(
            text(
                "SELECT conversation_id, not_intent, decided_by FROM text_corrections "
                "WHERE case_id = :c"
            ),
            {"c": case_id},
        ).all()
    assert (conversation_id, "churn_threat", "anna") in [tuple(r) for r in recorded]

    nightly(params)
    after = _churn_items(engine)
    assert conversation_id not in after
    assert get_item(engine, "retention", case_id)["status"] == "resolved"
    # Nothing else was forgotten: cases without a correction keep their churn threats.
    assert len(list_items(engine, "retention")) > 0
    engine.dispose()


def _train(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PATRONAGE, "text", "train", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_a_model_that_judges_worse_is_not_put_in_use_and_nights_record_the_version(
    sample_company, tmp_path
):
    # A company's 120 labelled rows (drawn from the shipped seed set: labels we trust).
    labelled = read_seed().groupby("intent", group_keys=False).sample(20, random_state=3)
    labelled[["text", "intent"]].to_csv(tmp_path / "labels.csv", index=False)

    first = _train("labels.csv", "-o", "acme", cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    in_use = json.loads((tmp_path / "acme" / "model.json").read_text())["version"]
    assert "in use" in first.stdout and "held-out" in first.stdout

    # The same labels without the seed set and without the held-out fifth judge worse than
    # the model in use, which learnt from all of them: refused, kept aside, logged.
    second = _train("labels.csv", "-o", "acme", "--without-seed", cwd=tmp_path)
    assert second.returncode == 1, second.stdout + second.stderr
    assert "NOT put in use" in second.stdout and "Traceback" not in second.stderr
    assert json.loads((tmp_path / "acme" / "model.json").read_text())["version"] == in_use
    log = [json.loads(line) for line in (tmp_path / "acme" / "versions.jsonl").open()]
    assert [entry["promoted"] for entry in log] == [True, False]
    refused = log[1]
    assert refused["macro_f1"] < refused["in_use_macro_f1"] and refused["in_use"] == in_use
    assert (tmp_path / "acme" / "candidates" / refused["version"] / "model.json").is_file()

    forced = _train("labels.csv", "-o", "acme", "--without-seed", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    now_in_use = json.loads((tmp_path / "acme" / "model.json").read_text())["version"]
    assert now_in_use != in_use
    assert (tmp_path / "acme" / "history" / in_use / "heads.npz").is_file()

    # Every night records which text model and encoder read its conversations.
    url = f"sqlite:///{tmp_path / 'patronage.db'}"
    base = {"data_location": str(sample_company[0]), "database_url": url, "as_of": AS_OF}
    nightly(nightly_params(**base))
    nightly(nightly_params(**base, text={"model_dir": str(tmp_path / "acme")}))
    engine = make_engine(url)
    with engine.connect() as conn:
        recorded = conn.execute(
            text("SELECT text_model_version, text_encoder FROM model_runs ORDER BY created_at")
        ).all()
    engine.dispose()
    assert [r[0] for r in recorded] == [seed_version(), now_in_use]
    assert {r[1] for r in recorded} == {load_encoder().model_id}
