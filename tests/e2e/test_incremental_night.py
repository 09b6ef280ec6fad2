"""A night after a night: rows that arrive unchanged are not validated, encoded or parsed
again, profiles compared before are not compared again, and what the night publishes equals a
full run on the same data given the same stored models and decisions (linking model, identity
links, idea keys, earlier scores)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from patronage.flows.nightly import nightly
from patronage.resources.database import make_engine
from patronage.tasks.transforms.linking import identity
from patronage.tasks.transforms.text import text_language

from factories import nightly_params

pytestmark = pytest.mark.slow
FIRST, SECOND = date(2026, 10, 31), date(2026, 11, 1)
# What a night publishes or decides; run ids and clock times differ between any two runs.
COMPARED = (
    "retention_cases", "ideation_items", "idea_supporters", "customer_scores",
    "identity_links", "identity_candidates", "contact_points", "score_history",
)  # fmt: skip


def _the_next_export(exports: Path, night: Path) -> Path:
    """The company a day later: a few new and changed rows of every kind (about 1 %)."""
    shutil.copytree(exports, night)
    customers = pd.read_csv(night / "crm/customers.csv", dtype=str, keep_default_na=False)
    customers.loc[3, "phone"] = "+1 (415) 555-2671"
    customers.loc[5, "email"] = "moved.house@example.test"
    new_customer = customers.iloc[[7]].assign(
        customer_id="C900001", name="Noor Haddad", email="noor.haddad@example.test", phone=""
    )
    pd.concat([customers, new_customer]).to_csv(night / "crm/customers.csv", index=False)
    orders = pd.read_csv(night / "crm/orders.csv", dtype=str, keep_default_na=False)
    extra = pd.DataFrame(
        {
            "order_id": ["N1", "N2", "N3"],
            "customer_id": [customers.loc[1, "customer_id"], "C900001", "C900001"],
            "ordered_at": ["2026-11-01T09:00:00Z", "2026-11-01T10:00:00Z", "2026-11-01T11:00:00Z"],
            "amount": ["41.00", "12.50", "80.00"],
        }
    )
    pd.concat([orders, extra]).to_csv(night / "crm/orders.csv", index=False)
    with (night / "social/posts.jsonl").open("a", encoding="utf-8") as posts:
        for i, words in enumerate(
            [
                "third parcel this month that turned up broken, I am done with this shop",
                "would love a way to pause my deliveries while I travel",
            ]
        ):
            posts.write(
                json.dumps(
                    {
                        "post_id": f"PN{i}",
                        "platform": "twitter",
                        "author_handle": f"newvoice{i}",
                        "author_display_name": f"New Voice {i}",
                        "author_location": "",
                        "text": words,
                        "posted_at": "2026-11-01T08:00:00Z",
                        "reply_to_id": "",
                        "likes": 2,
                        "shares": 0,
                        "author_followers": 150,
                    }  # fmt: skip
                )
                + "\n"
            )
    return night


def _published(url: str) -> dict[str, pd.DataFrame]:
    engine = make_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in COMPARED:
            frame = pd.read_sql(text(f"SELECT * FROM {table}"), conn)
            kept = [c for c in frame.columns if "run_id" not in c and not c.endswith("_at")]
            out[table] = frame[kept].sort_values(kept).reset_index(drop=True)
    engine.dispose()
    return out


def _forget_process_memos() -> None:
    identity._PHONE_KEYS.clear()
    text_language._LANGUAGES.clear()


def test_a_night_of_few_changes_redoes_only_them_and_equals_a_full_run(sample_company, tmp_path):
    exports = sample_company[0]
    later = _the_next_export(exports, tmp_path / "day2")
    incremental_url = f"sqlite:///{tmp_path / 'incremental.db'}"
    full_url = f"sqlite:///{tmp_path / 'full.db'}"
    nightly(nightly_params(data_location=str(exports), database_url=incremental_url, as_of=FIRST))
    shutil.copy(tmp_path / "incremental.db", tmp_path / "full.db")
    # The full run keeps what earlier nights decided, and forgets what they kept to save work.
    engine = make_engine(full_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM text_embeddings"))
        conn.execute(text("DELETE FROM validated_rows"))
        conn.execute(
            text("UPDATE contact_points SET phone = NULL, phone_key = NULL, content_hash = NULL")
        )
        conn.execute(
            text("UPDATE record_linkage_state SET customers = :no, authors = :no"), {"no": b""}
        )
    engine.dispose()

    _forget_process_memos()
    incremental = nightly(
        nightly_params(data_location=str(later), database_url=incremental_url, as_of=SECOND)
    )
    _forget_process_memos()
    full = nightly(
        nightly_params(
            data_location=str(later), database_url=full_url, as_of=SECOND, full_refresh=True
        )
    )

    # Only the changed and new rows went through the expectations…
    changed = {"customers": 3, "orders": 3, "social_posts": 2}
    for name, counts in incremental["datasets"].items():
        assert counts["validated_before"] == counts["valid"] - changed.get(name, 0), name
        assert full["datasets"][name]["validated_before"] == 0
    # …only the new texts were encoded and had their language identified…
    assert incremental["text_vectors"]["encoded"] == 2
    assert incremental["text_vectors"]["languages_identified"] == 2
    assert incremental["text_vectors"]["read"] == 2 and full["text_vectors"]["read"] > 100
    assert full["text_vectors"]["stored_before"] == 0 and full["text_vectors"]["encoded"] > 100
    # …only the new authors were compared with every customer, the others with the new
    # customer alone, with the model the first night trained…
    linking, everything = incremental["record_linkage"], full["record_linkage"]
    assert linking["trained"] == everything["trained"] == ""
    assert linking["authors_compared"] == 2 and linking["customers_compared"] == 1
    assert linking["authors_kept"] == everything["authors_compared"] - 2 > 50
    assert everything["authors_kept"] == 0 and everything["customers_compared"] == 401
    # …and what was published is the full run's.
    assert incremental["queues"] == full["queues"]
    ours, theirs = _published(incremental_url), _published(full_url)
    for table in COMPARED:
        pd.testing.assert_frame_equal(ours[table], theirs[table], obj=table)
