"""The nightly flow with a REST source: state advances only with a publish; no secret leaks."""

from __future__ import annotations

import json
import shutil
from datetime import date

import pandas as pd
import pytest
from prefect import get_client
from prefect.blocks.system import Secret
from sqlalchemy import select
from werkzeug import Request, Response

from patronage.flows.nightly import ContractBreachError, nightly
from patronage.resources.database import make_engine
from patronage.schemas.tables import source_rows, source_state
from patronage.tasks.io.sources import FileSource, default_file_sources
from patronage.tasks.io.sources.http import HttpAuth, HttpPolicy
from patronage.tasks.io.sources.rest import ZendeskTicketsSource

from factories import nightly_params

pytestmark = pytest.mark.slow
TOKEN = "zd-token-PLANTED-9f8e7d"
PLANTED_EMAIL = "planted.person+vip@example.org"
AS_OF = date(2026, 10, 31)


def zendesk_records(tickets: pd.DataFrame) -> list[dict]:
    return [
        {
            "id": t.ticket_id,
            "subject": t.subject,
            "description": t.body,
            "status": t.status,
            "priority": t.priority,
            "created_at": t.created_at,
            "updated_at": t.updated_at,
            "satisfaction_rating": {"score": t.satisfaction},
            "via": {
                "source": {
                    "from": {
                        "address": t.requester_email,
                        "name": t.requester_name,
                        "username": t.via_handle,
                    }
                }
            },
            "custom_fields": [],
        }
        for t in tickets.itertuples()
    ]


class ZendeskApi:
    def __init__(self, records: list[dict]):
        half = len(records) // 2
        self.pages = {
            None: {"tickets": records[:half], "after_cursor": "p1", "end_of_stream": False},
            "p1": {"tickets": records[half:], "after_cursor": "p2", "end_of_stream": True},
            "p2": {"tickets": [], "after_cursor": "p2", "end_of_stream": True},
        }
        self.cursors: list[str | None] = []

    def __call__(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response("unauthorized", status=401)
        cursor = request.args.get("cursor")
        self.cursors.append(cursor)
        return Response(json.dumps(self.pages[cursor]), content_type="application/json")


@pytest.fixture
def setup(sample_company, httpserver, tmp_path):
    exports = tmp_path / "exports"
    shutil.copytree(sample_company[0], exports)
    tickets = pd.read_json(
        exports / "support" / "tickets.jsonl", lines=True, dtype=str, convert_dates=False
    ).fillna("")
    tickets.loc[0, "requester_email"] = PLANTED_EMAIL
    api = ZendeskApi(zendesk_records(tickets))
    httpserver.expect_request("/api/v2/incremental/tickets/cursor.json").respond_with_handler(api)
    Secret(value=TOKEN).save("zendesk-test-token", overwrite=True)
    sources = [s for s in default_file_sources(str(exports)) if s.dataset != "tickets"]
    sources.append(
        ZendeskTicketsSource(
            name="zendesk-tickets",
            base_url=httpserver.url_for("/").rstrip("/"),
            auth=HttpAuth(bearer_token_secret="zendesk-test-token"),
            http=HttpPolicy(backoff_initial_seconds=0.01, backoff_max_seconds=0.05),
        )
    )
    url = f"sqlite:///{tmp_path / 'patronage.db'}"
    return exports, api, sources, url, tickets


def stored(url: str):
    engine = make_engine(url)
    with engine.connect() as conn:
        states = {r.source_name: r.cursor for r in conn.execute(select(source_state))}
        rows = conn.execute(select(source_rows.c.row_key)).scalars().all()
    engine.dispose()
    return states, rows


def test_cursor_advances_with_publish_only_and_rows_are_upserted(setup):
    exports, api, sources, url, tickets = setup
    params = nightly_params(sources=sources, database_url=url, as_of=AS_OF)
    first = nightly(params)
    assert api.cursors == [None, "p1"]
    assert first["sources"]["zendesk-tickets"]["rows"] == len(tickets)
    assert first["sources"]["zendesk-tickets"]["unknown_fields"] == len(tickets)  # custom_fields
    assert first["datasets"]["tickets"]["valid"] == len(tickets)
    states, rows = stored(url)
    assert states == {"zendesk-tickets": "p2"} and len(rows) == len(tickets)

    second = nightly(params)  # resumes from the stored cursor, reads nothing new
    assert api.cursors[2:] == ["p2"]
    assert second["sources"]["zendesk-tickets"]["rows"] == 0
    assert second["datasets"]["tickets"]["valid"] == len(
        tickets
    )  # stored rows, not an emptied queue
    assert second["queues"] == first["queues"] and second["queues_changed"] is False

    # A new page arrives but the run fails its contracts: the cursor must not move.
    api.pages["p2"] = {
        "tickets": zendesk_records(tickets.head(1).assign(status="solved")),
        "after_cursor": "p3",
        "end_of_stream": True,
    }
    orders = exports / "crm" / "orders.csv"
    pd.read_csv(orders, dtype=str).assign(amount="x").to_csv(orders, index=False)
    with pytest.raises(ContractBreachError):
        nightly(params)
    assert stored(url)[0] == {"zendesk-tickets": "p2"}


def test_no_token_or_email_in_logs_parameters_or_artifacts(setup):
    _exports, _api, sources, url, _tickets = setup
    nightly(nightly_params(sources=sources, database_url=url, as_of=AS_OF))
    with get_client(sync_client=True) as client:
        texts = [log.message for log in client.read_logs()]
        texts += [json.dumps(run.parameters, default=str) for run in client.read_flow_runs()]
        texts += [str(a.data) + str(a.description) for a in client.read_artifacts()]
    blob = "\n".join(texts)
    assert "zendesk-test-token" in blob  # the block's name may show; its value never
    assert TOKEN not in blob
    assert PLANTED_EMAIL not in blob and "planted.person" not in blob


def test_file_source_defaults_cover_every_dataset(tmp_path):
    sources = default_file_sources(str(tmp_path))
    assert all(isinstance(s, FileSource) for s in sources)
    assert {s.dataset for s in sources} == {
        "customers",
        "orders",
        "social_posts",
        "tickets",
        "ticket_comments",
        "ideas",
    }
