"""Incremental sources keep moving: a watermark advances only over rows that passed validation."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from sqlalchemy import select

from patronage.flows.nightly import nightly
from patronage.resources.database import make_engine
from patronage.schemas.tables import source_rows, source_state
from patronage.tasks.io.sources import FileSource, default_file_sources
from patronage.tasks.io.sources.base import advance_watermark, parse_watermark, rows_since

from factories import nightly_params

AS_OF = date(2026, 10, 31)
NOW = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)


def test_a_future_date_never_becomes_the_watermark():
    frame = pd.DataFrame({"t": ["2026-10-30T10:00:00Z", "2099-01-01T00:00:00Z", "garbage"]})
    assert advance_watermark(frame, "t", None, NOW) == "2026-10-30T10:00:00+00:00"
    # within a day of now is a clock difference, not a bad row
    soon = pd.DataFrame({"t": ["2026-11-01T06:00:00Z"]})
    assert advance_watermark(soon, "t", "2026-10-30T10:00:00Z", NOW) == "2026-11-01T06:00:00+00:00"
    assert advance_watermark(frame.head(0), "t", "2026-10-01T00:00:00Z", NOW) == (
        "2026-10-01T00:00:00Z"
    )


def test_an_integer_watermark_works_on_every_run():
    frame = pd.DataFrame({"version": ["40", "41", "42", "7"]})
    first = advance_watermark(frame, "version", None, NOW)
    assert first == "42"
    assert parse_watermark(first) == 42.0
    later = pd.DataFrame({"version": ["41", "42", "43", "100"]})
    assert rows_since(later, "version", first)["version"].tolist() == ["42", "43", "100"]
    assert advance_watermark(later, "version", first, NOW) == "100"
    assert advance_watermark(frame, "version", "100", NOW) == "100"  # never backwards
    with pytest.raises(ValueError, match="watermark 'yesterday' is neither a timestamp nor"):
        parse_watermark("yesterday")


@pytest.mark.slow
def test_one_future_dated_order_does_not_freeze_the_source(sample_company, tmp_path, database_url):
    exports = tmp_path / "exports"
    shutil.copytree(sample_company[0], exports)
    path = exports / "crm" / "orders.csv"
    orders = pd.read_csv(path, dtype=str, keep_default_na=False)
    newest_valid = pd.to_datetime(orders["ordered_at"], utc=True).max()
    future = orders.tail(1).assign(order_id="O-FUTURE", ordered_at="2099-01-01T00:00:00Z")
    pd.concat([orders, future]).to_csv(path, index=False)
    sources = [s for s in default_file_sources(str(exports)) if s.dataset != "orders"]
    sources.append(
        FileSource(
            name="orders-feed", dataset="orders", path=str(path), watermark_column="ordered_at"
        )
    )
    params = nightly_params(sources=sources, database_url=database_url, as_of=AS_OF)

    first = nightly(params)
    assert first["datasets"]["orders"]["quarantined"] == 1  # the 2099 order
    engine = make_engine(database_url)
    with engine.connect() as conn:
        watermark = conn.execute(
            select(source_state.c.watermark).where(source_state.c.source_name == "orders-feed")
        ).scalar_one()
    assert pd.Timestamp(watermark) == newest_valid

    # Ten new valid orders arrive; the next night stores every one of them.
    new = orders.tail(10).assign(
        order_id=[f"O-NEW-{i}" for i in range(10)], ordered_at="2026-10-31T18:00:00Z"
    )
    pd.concat([orders, future, new]).to_csv(path, index=False)
    second = nightly(params)
    with engine.connect() as conn:
        keys = set(
            conn.execute(
                select(source_rows.c.row_key).where(source_rows.c.dataset == "orders")
            ).scalars()
        )
    engine.dispose()
    assert {f"O-NEW-{i}" for i in range(10)} <= keys
    assert second["datasets"]["orders"]["valid"] == first["datasets"]["orders"]["valid"] + 10


@pytest.mark.slow
def test_a_source_gone_quiet_is_counted_then_fails_the_run(sample_company, tmp_path, database_url):
    from patronage.flows.nightly import ContractBreachError

    exports = tmp_path / "exports"
    shutil.copytree(sample_company[0], exports)
    sources = [s for s in default_file_sources(str(exports)) if s.dataset != "ideas"]
    sources.append(
        FileSource(
            name="ideas-feed",
            dataset="ideas",
            path=str(exports / "ideas" / "ideas.csv"),
            watermark_column="created_at",
        )
    )
    params = nightly_params(
        sources=sources, database_url=database_url, as_of=AS_OF, max_quiet_runs=2
    )
    first = nightly(params)
    assert first["sources"]["ideas-feed"]["rows"] > 0
    assert first["sources"]["ideas-feed"]["quiet_runs"] == 0
    # Nothing new since the watermark: the stored ideas are re-read at the watermark's instant
    # only, so make the export older than the watermark to model a feed that stopped.
    path = exports / "ideas" / "ideas.csv"
    ideas = pd.read_csv(path, dtype=str, keep_default_na=False)
    ideas.assign(created_at="2026-01-01T00:00:00Z").to_csv(path, index=False)
    second = nightly(params)
    assert second["sources"]["ideas-feed"]["quiet_runs"] == 1
    with pytest.raises(ContractBreachError, match="ideas-feed: no new rows in 2 runs in a row"):
        nightly(params)
