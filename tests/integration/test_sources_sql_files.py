"""SQL source on SQLite and PostgreSQL; file sources; the sources file."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from patronage.resources.database import make_engine
from patronage.tasks.io.sources import SourceError, load_sources_file
from patronage.tasks.io.sources.files import FileSource
from patronage.tasks.io.sources.sql import SqlSource

from factories import REPO

ORDERS = [
    ("O1", "C1", "2026-10-01 10:00:00", 10.0),
    ("O2", "C1", "2026-10-02 10:00:00", 20.0),
    ("O3", "C2", "2026-10-02 10:00:00", 30.0),  # same instant as O2
]


@pytest.fixture
def crm_database(database_url):
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS crm_orders"))
        conn.execute(
            text(
                "CREATE TABLE crm_orders (ref VARCHAR(20) PRIMARY KEY, cust VARCHAR(20), "
                "placed TIMESTAMP, total FLOAT, coupon VARCHAR(20))"
            )
        )
        for ref, cust, placed, total in ORDERS:
            conn.execute(
                text("INSERT INTO crm_orders VALUES (:r, :c, :p, :t, NULL)"),
                {"r": ref, "c": cust, "p": placed, "t": total},
            )
    yield database_url, engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS crm_orders"))
    engine.dispose()


def orders_source(url: str, **kwargs) -> SqlSource:
    return SqlSource(
        name="crm-orders",
        dataset="orders",
        url=url,
        watermark_column="placed",
        columns={
            "order_id": "ref",
            "customer_id": "cust",
            "ordered_at": "placed",
            "amount": "total",
        },
        **kwargs,
    )


def test_sql_table_incremental_without_skipping_rows_at_the_same_instant(crm_database):
    url, engine = crm_database
    source = orders_source(url, table="crm_orders")
    first = source.extract({}, False)
    assert list(first.frame["order_id"]) == ["O1", "O2", "O3"]
    assert first.frame.loc[0, "ordered_at"].startswith("2026-10-01")
    assert first.unknown_fields["coupon"] == 3
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO crm_orders VALUES ('O4', 'C2', '2026-10-02 10:00:00', 5, NULL)")
        )
    second = source.extract(first.state, False)
    assert sorted(second.frame["order_id"]) == [
        "O2",
        "O3",
        "O4",
    ]  # the watermark instant is re-read


def test_sql_query_source(crm_database):
    url, _ = crm_database
    source = orders_source(
        url, query="SELECT ref, cust, placed, total FROM crm_orders WHERE total > 15"
    )
    got = source.extract({}, False)
    assert list(got.frame["order_id"]) == ["O2", "O3"]


def test_sql_watermark_in_the_future_reads_nothing(crm_database):
    url, _ = crm_database
    got = orders_source(url, table="crm_orders").extract(
        {"watermark": "2999-01-01T00:00:00"}, False
    )
    assert len(got.frame) == 0 and "in the future" in got.warnings[0]


def test_sql_errors_name_the_source_and_never_the_password(crm_database):
    url, _ = crm_database
    with pytest.raises(SourceError, match=r"^crm-orders: reading no_such_table failed"):
        orders_source(url, table="no_such_table").extract({}, False)


def test_a_wrong_watermark_column_is_named_with_the_columns_there_are(crm_database, tmp_path):
    url, _ = crm_database
    source = orders_source(url, table="crm_orders").model_copy(update={"watermark_column": "placd"})
    with pytest.raises(
        SourceError,
        match=r"crm-orders: watermark_column 'placd' is not a column of crm_orders \(columns: ref, cust, placed, total, coupon\)",
    ):
        source.extract({}, False)
    path = tmp_path / "orders.csv"
    pd.DataFrame({"order_id": ["O1"], "ordered_at": ["2026-10-01T00:00:00Z"]}).to_csv(
        path, index=False
    )
    files = FileSource(
        name="orders-file", dataset="orders", path=str(path), watermark_column="updated"
    )
    with pytest.raises(
        SourceError, match=r"orders-file: watermark_column 'updated' is not a column"
    ):
        files.extract({}, False)


def test_an_integer_watermark_reads_on_every_run(crm_database):
    url, engine = crm_database
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE crm_orders ADD COLUMN version INTEGER"))
        conn.execute(text("UPDATE crm_orders SET version = 40 + length(ref)"))
    source = orders_source(url, table="crm_orders").model_copy(
        update={"watermark_column": "version"}
    )
    first = source.extract({}, False)
    assert first.state["watermark"] == "42" and len(first.frame) == 3
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO crm_orders VALUES ('O10', 'C2', '2026-10-03 10:00:00', 5, NULL, 43)")
        )
    second = source.extract(first.state, False)  # failed with "not likely a datetime" before
    assert second.state["watermark"] == "43"
    assert sorted(second.frame["order_id"]) == ["O1", "O10", "O2", "O3"]  # all at ≥ 42


def test_sql_url_with_password_is_refused():
    with pytest.raises(ValueError, match="must not contain a password"):
        orders_source("postgresql://u:p4ss@db/crm", table="t")


def test_file_sources_map_columns_for_csv_jsonl_and_parquet(tmp_path):
    frame = pd.DataFrame(
        {
            "ref": ["O1", "O2"],
            "cust": ["C1", "C2"],
            "placed": ["2026-10-01T10:00:00Z", "2026-10-03T10:00:00Z"],
            "total": ["1.5", "2"],
        }
    )
    frame.to_csv(tmp_path / "o.csv", index=False)
    frame.to_json(tmp_path / "o.jsonl", orient="records", lines=True)
    frame.to_parquet(tmp_path / "o.parquet")
    columns = {"order_id": "ref", "customer_id": "cust", "ordered_at": "placed", "amount": "total"}
    for name in ("o.csv", "o.jsonl", "o.parquet"):
        source = FileSource(
            name="f",
            dataset="orders",
            path=str(tmp_path / name),
            columns=columns,
            watermark_column="ordered_at",
        )
        got = source.extract({"watermark": "2026-10-02T00:00:00+00:00"}, False)
        assert list(got.frame["order_id"]) == ["O2"], name
        assert got.frame.loc[got.frame.index[0], "amount"] == "2", name
        assert got.state == {"watermark": "2026-10-03T10:00:00+00:00"}, name


def test_sources_file_errors_name_the_entry_and_field(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - kind: zendesk_tickets\n    name: zd\n  - kind: carrier_pigeon\n    name: x\n"
    )
    with pytest.raises(ValueError, match=r"sources.yaml: entry 1 \(zd\): base_url: Field required"):
        load_sources_file(path)
    path.write_text("sources:\n  - kind: carrier_pigeon\n    name: x\n")
    with pytest.raises(ValueError, match=r"entry 1 has unknown kind 'carrier_pigeon'"):
        load_sources_file(path)


def test_example_sources_file_parses():

    sources = load_sources_file(REPO / "deployments" / "sources.example.yaml")
    assert {s.kind for s in sources} == {
        "files",
        "sql",
        "zendesk_tickets",
        "hubspot_objects",
        "json_api",
    }
