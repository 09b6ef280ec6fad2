"""The validation gate in the nightly flow: quarantine, thresholds, breaches, operator fixes."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pandas as pd
import pytest
from prefect import get_client
from typer.testing import CliRunner

from patronage.cli import app
from patronage.flows.nightly import ContractBreachError, nightly
from patronage.resources.database import make_engine
from patronage.tasks.io.publish_queues import queue_fingerprint
from patronage.work.quarantine import FixFileError, apply_fixes, export_quarantine, list_quarantine

from factories import nightly_params

pytestmark = pytest.mark.slow
AS_OF = date(2026, 10, 31)


@pytest.fixture
def company(sample_company, tmp_path):
    exports = tmp_path / "exports"
    shutil.copytree(sample_company[0], exports)
    return exports, f"sqlite:///{tmp_path / 'patronage.db'}"


def edit_orders(exports, change) -> pd.DataFrame:
    path = exports / "crm" / "orders.csv"
    orders = pd.read_csv(path, dtype=str, keep_default_na=False)
    orders = change(orders)
    orders.to_csv(path, index=False)
    return orders


def run(exports, url, **kwargs) -> dict:
    return nightly(
        nightly_params(data_location=str(exports), database_url=url, as_of=AS_OF, **kwargs)
    )


def test_three_percent_bad_rows_are_quarantined_and_the_run_publishes(company):
    exports, url = company
    bad = {}

    def spoil(orders):
        n = int(len(orders) * 0.03)
        rows = orders.index[:: len(orders) // n][:n]
        orders.loc[rows[0::3], "amount"] = "12,50"  # wrong type
        orders.loc[rows[1::3], "order_id"] = ""  # null key
        orders.loc[rows[2::3], "ordered_at"] = "2099-01-01T00:00:00Z"
        bad["n"] = len(rows)
        bad["type"] = set(orders.loc[rows[0::3], "order_id"])
        bad["null_keys"] = len(rows[1::3])
        return orders

    orders = edit_orders(exports, spoil)
    summary = run(exports, url)
    assert summary["datasets"]["orders"] == {
        "read": len(orders),
        "valid": len(orders) - bad["n"],
        "quarantined": bad["n"],
        "released": 0,
        "unknown_columns": 0,
        "normalised": 0,
        "validated_before": 0,  # the first night: nothing validated before
    }
    engine = make_engine(url)
    entries = list_quarantine(engine, "orders")
    engine.dispose()
    assert len(entries) == bad["n"] and set(entries["status"]) == {"quarantined"}
    reasons = entries.set_index("row_key")["failed_expectations"]
    assert all(
        reasons[k] == "cast:amount,expect_column_values_to_not_be_null:amount" for k in bad["type"]
    )
    null_key = entries["failed_expectations"] == "expect_column_values_to_not_be_null:order_id"
    assert null_key.sum() == bad["null_keys"]
    assert (
        entries["failed_expectations"] == "expect_column_values_to_be_between:ordered_at"
    ).sum() > 0


def test_forty_percent_bad_rows_fail_the_run_keep_quarantine_and_leave_queues(company):
    exports, url = company
    run(exports, url)
    engine = make_engine(url)
    before = queue_fingerprint(engine)
    edit_orders(exports, lambda o: o.assign(amount=o["amount"].where(o.index % 5 >= 2, "x")))
    with pytest.raises(
        ContractBreachError,
        match=r"orders: 40\.0% of rows rejected \(threshold 5%\); most common failure cast:amount; example row ids: O",
    ):
        run(exports, url)
    assert queue_fingerprint(engine) == before
    assert len(list_quarantine(engine, "orders")) > 0  # kept although the run failed
    engine.dispose()


def test_per_dataset_threshold_lets_a_noisy_dataset_through(company):
    exports, url = company
    edit_orders(exports, lambda o: o.assign(amount=o["amount"].where(o.index % 10 != 0, "x")))
    with pytest.raises(ContractBreachError):
        run(exports, url)
    summary = run(exports, url, reject_thresholds={"orders": 0.15})
    assert summary["datasets"]["orders"]["quarantined"] > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("order_id,customer_id,ordered_at,amount\n", "orders: no rows"),
        ("", "orders: missing column(s) order_id, customer_id, ordered_at, amount"),
        (
            "order_id,customer_id,ordered_at\nO1,C000001,2026-10-01T00:00:00Z\n",
            "orders: missing column(s) amount",
        ),
    ],
)
def test_empty_or_incomplete_files_breach_the_contract(company, content, message):
    exports, url = company
    (exports / "crm" / "orders.csv").write_text(content)
    with pytest.raises(ContractBreachError, match=re_escape(message)):
        run(exports, url)


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_orders_for_unknown_customers_are_quarantined_by_reference(company):
    exports, url = company
    edit_orders(
        exports, lambda o: o.assign(customer_id=o["customer_id"].where(o.index != 3, "C999999"))
    )
    summary = run(exports, url)
    engine = make_engine(url)
    entries = list_quarantine(engine, "orders")
    engine.dispose()
    assert summary["datasets"]["orders"]["quarantined"] == 1
    assert list(entries["failed_expectations"]) == ["references:customers.customer_id"]


def test_a_stale_dataset_fails_its_own_task_with_the_reason_and_counts_as_failed(company):
    exports, url = company
    state = nightly(
        nightly_params(data_location=str(exports), database_url=url, as_of=date(2027, 3, 1)),
        return_state=True,
    )
    assert "freshness limit" in state.message
    with get_client(sync_client=True) as client:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        flow_run = client.read_flow_run(state.state_details.flow_run_id)
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id]))
        )
        validation = [a for a in client.read_latest_artifacts() if a.key == "patronage-validation"][
            0
        ]
    states = {
        t.name: (t.state.type.value, t.state.message)
        for t in tasks
        if t.name.startswith("validate-")
    }
    assert flow_run.state.type.value == "FAILED"
    assert states["validate-orders"][0] == "FAILED"
    assert states["validate-orders"][1].startswith(
        "orders: newest ordered_at is 122 days old at 2027-03-01"
    )
    assert states["validate-customers"][0] == "COMPLETED"
    orders_row = next(
        line for line in validation.data.splitlines() if line.startswith("| orders |")
    )
    assert orders_row.split("|")[3].strip() == "1"  # expectations failed: the freshness check
    assert "`orders`: `freshness` on `ordered_at`" in validation.data


def test_validation_artifact_reports_each_dataset(company):
    exports, url = company
    edit_orders(exports, lambda o: o.assign(amount=o["amount"].where(o.index != 0, "x")))
    run(exports, url)
    with get_client(sync_client=True) as client:
        artifact = client.read_latest_artifacts()
        validation = [a for a in artifact if a.key == "patronage-validation"][0]
    assert "| orders |" in validation.data and "| 1 |" in validation.data
    assert "`orders`: `expect_column_values_to_not_be_null` on `amount` (1 rows)" in validation.data


def test_operator_fix_is_revalidated_released_and_keeps_applying(company, tmp_path):
    exports, url = company
    orders = edit_orders(
        exports, lambda o: o.assign(amount=o["amount"].where(o.index != 5, "twelve"))
    )
    first = run(exports, url)
    assert first["datasets"]["orders"]["quarantined"] == 1
    engine = make_engine(url)
    fix_file = tmp_path / "fix.jsonl"
    assert export_quarantine(engine, "orders", fix_file) == 1
    entry = json.loads(fix_file.read_text())
    assert entry["row"]["amount"] == "twelve"
    entry["row"]["amount"] = "12.00"
    fix_file.write_text(json.dumps(entry) + "\n")
    result = CliRunner().invoke(
        app, ["quarantine", "fix", "--file", str(fix_file), "--database-url", url]
    )
    assert result.exit_code == 0, result.output

    second = run(exports, url)
    assert second["datasets"]["orders"] == {
        "read": len(orders),
        "valid": len(orders),
        "quarantined": 0,
        "released": 1,
        "unknown_columns": 0,
        "normalised": 0,
        # Every row passed last night but the fixed one, which is validated again.
        "validated_before": len(orders) - 1,
    }
    third = run(exports, url)  # the source still sends the bad row: the fix keeps applying
    assert third["datasets"]["orders"]["valid"] == len(orders)
    entries = list_quarantine(engine, "orders")
    assert list(entries["status"]) == ["released"]  # kept, never deleted
    engine.dispose()


def test_fix_file_errors_name_file_and_line(company, tmp_path):
    _exports, url = company
    engine = make_engine(url)
    bad = tmp_path / "fix.jsonl"
    bad.write_text('{"quarantine_id": 1, "row": {}}\nnot json\n')
    with pytest.raises(FixFileError, match=r"fix\.jsonl:2: expected"):
        apply_fixes(engine, bad)
    bad.write_text('{"quarantine_id": 77, "row": {"amount": "1"}}\n')
    with pytest.raises(FixFileError, match=r"fix\.jsonl:1: no quarantine entry 77"):
        apply_fixes(engine, bad)
    engine.dispose()


def test_hostile_text_is_stored_verbatim_and_escaped_when_shown(company):
    exports, url = company
    hostile = '[bold red]\'; DROP TABLE ideas; -- =HYPERLINK("http://x") <script>x</script> 🚀 שלום'
    ideas_path = exports / "ideas" / "ideas.csv"
    ideas = pd.read_csv(ideas_path, dtype=str, keep_default_na=False)
    ideas.loc[:, "title"] = ideas["title"].where(ideas.index != 0, hostile)
    ideas.to_csv(ideas_path, index=False)
    run(exports, url)
    engine = make_engine(url)
    from patronage.work import list_items

    titles = list(list_items(engine, "ideation")["title"])
    engine.dispose()
    assert hostile in titles
    result = CliRunner().invoke(app, ["queues", "--database-url", url, "--top", "100"])
    assert result.exit_code == 0
    assert "[bold red]'; DROP TABLE" in result.output  # markup shown as text, not interpreted


def test_data_docs_site_is_written_when_asked(company, tmp_path):
    exports, url = company
    docs = tmp_path / "docs"
    run(exports, url, data_docs_dir=str(docs), dry_run=True)
    assert (docs / "index.html").exists()
    assert (docs / "expectations" / "patronage" / "orders.html").exists()
    assert any((docs / "validations" / "patronage" / "orders").rglob("*.html"))


def test_a_breached_dataset_never_puts_its_rows_in_prefect_logs(company):
    """Prefect logs a failed task's state with its result: the result shows counts only."""
    exports, url = company
    path = exports / "crm" / "customers.csv"
    customers = pd.read_csv(path, dtype=str, keep_default_na=False)
    customers.loc[customers.index % 2 == 0, "signup_date"] = "not a date"  # 50 % rejected
    customers.to_csv(path, index=False)
    state = nightly(
        nightly_params(data_location=str(exports), database_url=url, as_of=AS_OF),
        return_state=True,
    )
    assert state.is_failed() and "customers: 50.0% of rows rejected" in state.message
    # This run by its id: ordering runs by start time is not safe on a clock that jumps.
    flow_run_id = state.state_details.flow_run_id
    # Logs reach the API in batches from a background worker: send what is queued first (the
    # datasets are validated at once now, so the failure is no longer among the first lines).
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        from prefect.client.schemas.filters import (
            FlowRunFilter,
            FlowRunFilterId,
            LogFilter,
            LogFilterFlowRunId,
        )

        logs = []
        while True:  # the API answers at most 200 lines at a time
            page = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])),
                limit=200,
                offset=len(logs),
            )
            logs += page
            if len(page) < 200:
                break
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    text = "\n".join(log.message for log in logs)
    assert "customers: 50.0% of rows rejected" in text  # the failure is logged…
    assert "DatasetValidation(customers:" in text  # …with its counts…
    planted = [e for e in customers["email"] if e][:200]
    assert not any(e in text for e in planted)  # …and no customer's e-mail address
    assert not any(n in text for n in customers["name"].head(50) if n)
    assert any(t.name == "validate-customers" and t.state.type.value == "FAILED" for t in tasks)
