"""People teach the text models: a case resolved as "not a churn threat" changes how the next
night reads that conversation (and texts that say the same)."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
from sqlalchemy import text

from flows.nightly import nightly
from patronage.config import NightlyParameters
from patronage.database import make_engine
from patronage.work import get_item, list_items, resolve_case
from tasks.transforms.text_signals import spread_corrections

AS_OF = date(2026, 10, 31)


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


@pytest.mark.slow
def test_resolving_as_not_a_churn_threat_changes_the_next_nights_reading(sample_company, tmp_path):
    url = f"sqlite:///{tmp_path / 'patronage.db'}"
    params = NightlyParameters(data_location=str(sample_company[0]), database_url=url, as_of=AS_OF)
    nightly(params)
    engine = make_engine(url)
    before = _churn_items(engine)
    assert before, "the sample company has churn threats"
    conversation_id, case_id = sorted(before.items())[0]
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
