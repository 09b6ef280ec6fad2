"""Thirty nights over a changing company with faults injected (`make test-soak`, not on every CI
run): nothing lost, nothing frozen, nobody exposed, no human edit undone.

Each night exposes one more day of a generated company through incremental file sources
(orders and posts carry watermarks), and some nights bring trouble: a future-dated order,
hostile text (NUL, a byte that is not UTF-8), a run killed in the middle of publishing, an
erasure request, two workers claiming at once. The tallies are printed at the end.
"""

from __future__ import annotations

import json
import os
import random
import threading
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import String, Text, select

from patronage.flows.nightly import nightly
from patronage.resources.database import make_engine
from patronage.schemas.tables import metadata, source_rows, source_state
from patronage.simulator import SampleSpec, write_sample
from patronage.tasks.io.privacy import erase, load_privacy_key
from patronage.tasks.io.sources import FileSource, default_file_sources
from patronage.work import AlreadyClaimed, add_note, claim, list_items, notes

from factories import nightly_params

pytestmark = pytest.mark.soak
NIGHTS = int(os.environ.get("SOAK_NIGHTS", "30"))
CUSTOMERS = int(os.environ.get("SOAK_CUSTOMERS", "2000"))
FIRST_NIGHT = date(2026, 10, 31) - timedelta(days=NIGHTS - 1)


def _expose(full: Path, night: Path, day: date, extra_orders: pd.DataFrame) -> None:
    """The exports as they stood at the end of ``day``."""
    end = pd.Timestamp(day + timedelta(days=1), tz="UTC")
    for rel, column in (
        ("crm/orders.csv", "ordered_at"),
        ("ideas/ideas.csv", "created_at"),
        ("crm/customers.csv", None),
    ):
        frame = pd.read_csv(full / rel, dtype=str, keep_default_na=False)
        if column:
            frame = frame[pd.to_datetime(frame[column], utc=True) < end]
        if rel == "crm/orders.csv":
            frame = pd.concat([frame, extra_orders], ignore_index=True)
        (night / rel).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(night / rel, index=False)
    for rel, column in (
        ("social/posts.jsonl", "posted_at"),
        ("support/tickets.jsonl", "created_at"),
        ("support/ticket_comments.jsonl", "created_at"),
    ):
        lines = (full / rel).read_bytes().split(b"\n")
        kept = [
            line for line in lines if line.strip() and pd.Timestamp(json.loads(line)[column]) < end
        ]
        (night / rel).parent.mkdir(parents=True, exist_ok=True)
        (night / rel).write_bytes(b"\n".join(kept) + b"\n")


def _hostile(night: Path) -> None:
    posts = night / "social" / "posts.jsonl"
    lines = posts.read_text(encoding="utf-8").splitlines()
    post = json.loads(lines[-1])
    post["text"] = post["text"] + "\x00"
    lines[-1] = json.dumps(post)
    posts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tickets = night / "support" / "tickets.jsonl"
    raw = tickets.read_bytes().split(b"\n")
    raw[0] = raw[0].replace(b'"body":"', b'"body":"\xff ', 1)
    tickets.write_bytes(b"\n".join(raw))


def _everything(engine) -> str:
    parts = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, (String, Text))]
            for row in conn.execute(select(*cols)).all() if cols else []:
                parts += [str(v) for v in row if v is not None]
    return "\n".join(parts)


def test_thirty_nights_with_faults(tmp_path, monkeypatch):
    monkeypatch.setenv("PATRONAGE_HOME", str(tmp_path / "home"))
    rng = random.Random(7)
    full = tmp_path / "full"
    write_sample(SampleSpec(customers=CUSTOMERS, seed=21), full, None)
    crm = pd.read_csv(full / "crm" / "customers.csv", dtype=str, keep_default_na=False)
    url = f"sqlite:///{tmp_path / 'patronage.db'}"
    engine = make_engine(url)
    night_dir = tmp_path / "night"
    sources = [
        s
        for s in default_file_sources(str(night_dir))
        if s.dataset not in ("orders", "social_posts")
    ] + [
        FileSource(
            name="orders-feed",
            dataset="orders",
            path=str(night_dir / "crm" / "orders.csv"),
            watermark_column="ordered_at",
        ),
        FileSource(
            name="posts-feed",
            dataset="social_posts",
            path=str(night_dir / "social" / "posts.jsonl"),
            watermark_column="posted_at",
        ),
    ]
    tallies = {
        "nights": 0,
        "published": 0,
        "killed": 0,
        "future_rows": 0,
        "hostile_nights": 0,
        "erased": 0,
        "claims": 0,
        "double_claims": 0,
        "notes": 0,
    }
    future = pd.DataFrame(columns=["order_id", "customer_id", "ordered_at", "amount"])
    erased: list[str] = []
    claimed: dict[str, str] = {}
    noted: dict[str, int] = {}
    real_publish = __import__(
        "patronage.tasks.stages.publish_run", fromlist=["publish_queues"]
    ).publish_queues

    for n in range(NIGHTS):
        day = FIRST_NIGHT + timedelta(days=n)
        if n % 7 == 3:  # an order dated 2099 arrives (and stays in the export)
            row = pd.read_csv(full / "crm" / "orders.csv", dtype=str, nrows=1)
            future = pd.concat(
                [future, row.assign(order_id=f"O-FUTURE-{n}", ordered_at="2099-01-01T00:00:00Z")]
            )
            tallies["future_rows"] += 1
        _expose(full, night_dir, day, future)
        if n % 5 == 2:
            _hostile(night_dir)
            tallies["hostile_nights"] += 1
        params = nightly_params(sources=sources, database_url=url, as_of=day)
        killed = n % 8 == 5
        if killed:  # the run dies in the middle of publishing

            def dying_publish(*args, **kwargs):
                raise SystemError("killed mid-publish")

            monkeypatch.setattr("patronage.tasks.stages.publish_run.publish_queues", dying_publish)
        state = nightly(params, return_state=True)
        monkeypatch.setattr("patronage.tasks.stages.publish_run.publish_queues", real_publish)
        tallies["nights"] += 1
        if killed:
            assert state.is_failed()
            tallies["killed"] += 1
            continue
        assert state.is_completed(), state.message
        tallies["published"] += 1

        # Two workers claim the top of the queue at once.
        items = list_items(engine, "retention")["case_id"].head(6).tolist()
        winners: dict[str, list[str]] = {}

        def work(worker: str, keys: list[str], winners: dict[str, list[str]]) -> None:
            for key in keys:
                try:
                    claim(engine, "retention", key, worker)
                    winners.setdefault(key, []).append(worker)
                except AlreadyClaimed:
                    pass

        threads = [threading.Thread(target=work, args=(w, items, winners)) for w in ("ann", "bo")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        tallies["claims"] += len(winners)
        tallies["double_claims"] += sum(len(w) > 1 for w in winners.values())
        claimed |= {k: w[0] for k, w in winners.items()}
        if items:
            key = rng.choice(items)
            add_note(engine, "retention", key, f"night {n}: called", "ann")
            noted[key] = noted.get(key, 0) + 1
            tallies["notes"] += 1

        if n % 6 == 4:  # a customer asks to be forgotten
            with engine.connect() as conn:
                candidates = (
                    conn.execute(
                        select(source_rows.c.payload).where(source_rows.c.dataset == "orders")
                    )
                    .scalars()
                    .all()
                )
            customer = json.loads(rng.choice(candidates))["customer_id"]
            erase(engine, customer_id=customer, actor="dpo", key=load_privacy_key())
            erased.append(customer)
            tallies["erased"] += 1
            claimed = {k: w for k, w in claimed.items() if not k.startswith(f"RET-{customer}")}
            noted = {k: c for k, c in noted.items() if not k.startswith(f"RET-{customer}")}

    # Nobody erased is anywhere.
    stored = _everything(engine)
    people = crm.set_index("customer_id")
    for customer in erased:
        for trace in (customer, people.at[customer, "email"], people.at[customer, "name"]):
            assert trace and trace not in stored, (customer, trace)
    # Every valid order up to the last night is stored exactly once (erased people's aside).
    last_day = FIRST_NIGHT + timedelta(days=NIGHTS - 1)
    orders = pd.read_csv(full / "crm" / "orders.csv", dtype=str, keep_default_na=False)
    upto = orders[
        pd.to_datetime(orders["ordered_at"], utc=True)
        < pd.Timestamp(last_day + timedelta(days=1), tz="UTC")
    ]
    expected = set(upto.loc[~upto["customer_id"].isin(erased), "order_id"])
    with engine.connect() as conn:
        keys = (
            conn.execute(select(source_rows.c.row_key).where(source_rows.c.dataset == "orders"))
            .scalars()
            .all()
        )
        watermark = conn.execute(
            select(source_state.c.watermark).where(source_state.c.source_name == "orders-feed")
        ).scalar_one()
    assert len(keys) == len(set(keys))
    stored_orders = {k for k in keys if not k.startswith("O-FUTURE")}
    assert stored_orders == expected
    # No source stuck: the watermark is the newest valid order, not 2099.
    assert pd.Timestamp(watermark) == pd.to_datetime(upto["ordered_at"], utc=True).max()
    # No human edit lost: every claim and every note is still there.
    for key, worker in claimed.items():
        row = list_items(
            engine, "retention", assignee=worker, include_snoozed=True, include_done=True
        )
        assert key in set(row["case_id"]), key
    for key, count in noted.items():
        assert (notes(engine, "retention", key)["action"] == "note").sum() == count, key
    assert tallies["double_claims"] == 0
    engine.dispose()
    # the soak's report is its tallies: printed for `make test-soak` (run with -s)
    print("\nsoak tallies:", json.dumps(tallies), f"stored orders {len(stored_orders)}")  # noqa: T201
