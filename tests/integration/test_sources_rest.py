"""REST connectors against a real local HTTP server serving each API's contract."""

from __future__ import annotations

import json
import time

import pytest
from prefect.blocks.system import Secret
from werkzeug import Request, Response

from patronage.tasks.io.sources import SourceError
from patronage.tasks.io.sources.http import HttpAuth, HttpPolicy
from patronage.tasks.io.sources.rest import (
    HubSpotObjectsSource,
    JsonApiSource,
    ZendeskTicketsSource,
)

TOKEN = "tok-SECRET-4242"
FAST = HttpPolicy(
    timeout_seconds=0.5, max_attempts=4, backoff_initial_seconds=0.01, backoff_max_seconds=0.05
)
ZENDESK_PATH = "/api/v2/incremental/tickets/cursor.json"


@pytest.fixture(scope="module", autouse=True)
def secrets():
    Secret(value=TOKEN).save("test-api-token", overwrite=True)
    Secret(value="svc:pa55").save("test-basic-auth", overwrite=True)


def ticket(i: int, **extra) -> dict:
    return {
        "id": i,
        "subject": f"Subject {i}",
        "description": "Body",
        "status": "open",
        "priority": "normal",
        "created_at": f"2026-10-0{i % 9 + 1}T10:00:00Z",
        "updated_at": f"2026-10-0{i % 9 + 1}T11:00:00Z",
        "via": {
            "channel": "email",
            "source": {"from": {"address": f"user{i}@example.com", "name": f"User {i}"}},
        },
        "satisfaction_rating": {"score": "unoffered"},
        **extra,
    }


class ScriptedApi:
    """Serves pages by cursor; ``faults[cursor]`` lists responses to give before the page."""

    def __init__(self, pages: dict[str | None, dict], cursor_arg: str = "cursor"):
        self.pages, self.cursor_arg = pages, cursor_arg
        self.faults: dict[str | None, list] = {}
        self.requests: list[dict] = []

    def __call__(self, request: Request) -> Response:
        cursor = request.args.get(self.cursor_arg)
        self.requests.append(
            {
                "cursor": cursor,
                "args": dict(request.args),
                "auth": request.headers.get("Authorization"),
            }
        )
        pending = self.faults.get(cursor)
        if pending:
            fault = pending.pop(0)
            if fault == "sleep":
                time.sleep(1.0)
            else:
                return fault
        return Response(json.dumps(self.pages[cursor]), content_type="application/json")


def zendesk_pages(n: int) -> dict[str | None, dict]:
    pages: dict[str | None, dict] = {}
    for p in range(1, n + 1):
        key = None if p == 1 else f"c{p - 1}"
        pages[key] = {
            "tickets": [ticket(2 * p - 1), ticket(2 * p)],
            "after_cursor": f"c{p}",
            "end_of_stream": p == n,
        }
    return pages


def zendesk(httpserver, api: ScriptedApi, **kwargs) -> ZendeskTicketsSource:
    httpserver.expect_request(ZENDESK_PATH).respond_with_handler(api)
    return ZendeskTicketsSource(
        name="zendesk",
        base_url=httpserver.url_for("/").rstrip("/"),
        auth=HttpAuth(bearer_token_secret="test-api-token"),
        http=kwargs.pop("http", FAST),
        **kwargs,
    )


def test_zendesk_reads_every_page_with_bearer_auth_and_keeps_the_last_cursor(httpserver):
    api = ScriptedApi(zendesk_pages(3))
    got = zendesk(httpserver, api, start_time=1700000000).extract({}, full_refresh=False)
    assert list(got.frame["ticket_id"]) == ["1", "2", "3", "4", "5", "6"]
    assert got.frame.loc[0, "requester_email"] == "user1@example.com"
    assert got.frame.loc[0, "satisfaction"] == "unoffered"
    assert got.state == {"cursor": "c3"} and got.incremental
    assert [r["cursor"] for r in api.requests] == [None, "c1", "c2"]
    assert api.requests[0]["args"]["start_time"] == "1700000000"
    assert {r["auth"] for r in api.requests} == {f"Bearer {TOKEN}"}


def test_tickets_patronage_wrote_for_retention_cases_never_come_back_as_customers_tickets(
    httpserver,
):
    pages = zendesk_pages(1)
    ours = dict(ticket(7), tags=["patronage", "retention"], external_id="RET-C000042")
    tagged_only = dict(ticket(8), tags=["patronage"])
    pages[None]["tickets"] += [ours, tagged_only, dict(ticket(9), tags=["vip"])]
    got = zendesk(httpserver, ScriptedApi(pages)).extract({}, full_refresh=False)
    assert list(got.frame["ticket_id"]) == ["1", "2", "9"]


def test_zendesk_resumes_from_the_stored_cursor(httpserver):
    api = ScriptedApi(zendesk_pages(3))
    got = zendesk(httpserver, api).extract({"cursor": "c2"}, full_refresh=False)
    assert list(got.frame["ticket_id"]) == ["5", "6"]
    assert [r["cursor"] for r in api.requests] == ["c2"]


def test_full_refresh_ignores_the_stored_cursor(httpserver):
    api = ScriptedApi(zendesk_pages(2))
    got = zendesk(httpserver, api).extract({"cursor": "c1"}, full_refresh=True)
    assert list(got.frame["ticket_id"]) == ["1", "2", "3", "4"]


def test_429_honours_retry_after(httpserver):
    api = ScriptedApi(zendesk_pages(2))
    api.faults["c1"] = [Response("slow down", status=429, headers={"Retry-After": "1"})]
    started = time.monotonic()
    got = zendesk(httpserver, api).extract({}, False)
    assert time.monotonic() - started >= 1.0
    assert list(got.frame["ticket_id"]) == ["1", "2", "3", "4"]
    assert [r["cursor"] for r in api.requests] == [None, "c1", "c1"]


def test_503_then_success_on_page_3_of_5_resumes_from_the_page_3_cursor(httpserver):
    api = ScriptedApi(zendesk_pages(5))
    api.faults["c2"] = [Response("down", status=503), Response("down", status=503)]
    got = zendesk(httpserver, api).extract({}, False)
    assert [r["cursor"] for r in api.requests] == [None, "c1", "c2", "c2", "c2", "c3", "c4"]
    assert list(got.frame["ticket_id"]) == [str(i) for i in range(1, 11)]


def test_timeout_mid_pagination_retries_that_page_without_duplicates(httpserver):
    api = ScriptedApi(zendesk_pages(3))
    api.faults["c1"] = ["sleep"]
    got = zendesk(httpserver, api).extract({}, False)
    assert list(got.frame["ticket_id"]) == ["1", "2", "3", "4", "5", "6"]
    assert [r["cursor"] for r in api.requests][:3] == [None, "c1", "c1"]


def test_401_fails_at_once_naming_source_and_endpoint_but_not_the_token(httpserver):
    api = ScriptedApi(zendesk_pages(2))
    api.faults[None] = [Response("no", status=401)]
    with pytest.raises(SourceError) as err:
        zendesk(httpserver, api).extract({}, False)
    assert str(err.value) == f"zendesk: GET {ZENDESK_PATH} returned 401 UNAUTHORIZED"
    assert TOKEN not in str(err.value)
    assert len(api.requests) == 1


def test_persistent_5xx_gives_up_after_the_bounded_attempts(httpserver):
    api = ScriptedApi(zendesk_pages(1))
    api.faults[None] = [Response("down", status=502)] * 10
    with pytest.raises(
        SourceError,
        match=rf"zendesk: GET {ZENDESK_PATH} still failing after 4 attempts \(HTTP 502\)",
    ):
        zendesk(httpserver, api).extract({}, False)
    assert len(api.requests) == 4


def test_a_failing_page_is_retried_in_one_layer_only(httpserver):
    """HTTP retries with backoff; the Prefect task does not retry them all again (4, not 12)."""
    from prefect import flow

    from patronage.tasks.io.extract_source import extract_source

    api = ScriptedApi(zendesk_pages(1))
    api.faults[None] = [Response("down", status=502)] * 20
    source = zendesk(httpserver, api)

    @flow
    def extract_once() -> str:
        state = extract_source(source, {}, False, return_state=True)
        return state.message if state.is_failed() else "completed"

    assert "still failing after 4 attempts" in extract_once()
    assert len(api.requests) == 4


def test_duplicate_page_yields_each_ticket_once(httpserver):
    pages = zendesk_pages(3)
    pages["c2"] = {
        **pages["c1"],
        "after_cursor": "c3",
        "end_of_stream": True,
    }  # page 2 served again
    api = ScriptedApi(pages)
    got = zendesk(httpserver, api).extract({}, False)
    assert list(got.frame["ticket_id"]) == ["1", "2", "3", "4"]


def test_empty_stream_gives_zero_rows_and_keeps_the_cursor(httpserver):
    api = ScriptedApi({"c9": {"tickets": [], "after_cursor": None, "end_of_stream": True}})
    got = zendesk(httpserver, api).extract({"cursor": "c9"}, False)
    assert len(got.frame) == 0 and got.state == {"cursor": "c9"}


def test_unknown_fields_are_ignored_and_counted(httpserver):
    pages = {
        None: {
            "tickets": [ticket(1, brand_new_field=1), ticket(2, brand_new_field=2)],
            "after_cursor": "c1",
            "end_of_stream": True,
        }
    }
    got = zendesk(httpserver, ScriptedApi(pages)).extract({}, False)
    assert got.unknown_fields["brand_new_field"] == 2
    assert "brand_new_field" not in got.frame.columns


def test_missing_required_field_fails_the_source_naming_it(httpserver):
    broken = ticket(2)
    del broken["status"]
    pages = {
        None: {"tickets": [ticket(1)], "after_cursor": "c1", "end_of_stream": False},
        "c1": {"tickets": [broken], "after_cursor": "c2", "end_of_stream": True},
    }
    with pytest.raises(
        Exception,
        match=r"zendesk: required field 'status' \(for tickets.status\) is missing from record 1 of page 2",
    ):
        zendesk(httpserver, ScriptedApi(pages)).extract({}, False)


def contact(i: int, updated: str) -> dict:
    return {
        "id": str(i),
        "properties": {
            "email": f"c{i}@example.com",
            "firstname": "Ann",
            "lastname": f"Lee{i}",
            "createdate": "2025-01-01T00:00:00Z",
        },
        "createdAt": "2025-01-01T00:00:00Z",
        "updatedAt": updated,
        "archived": False,
    }


def hubspot(httpserver, pages) -> tuple[HubSpotObjectsSource, ScriptedApi]:
    api = ScriptedApi(pages, cursor_arg="after")
    httpserver.expect_request("/crm/v3/objects/contacts").respond_with_handler(api)
    source = HubSpotObjectsSource(
        name="hubspot",
        base_url=httpserver.url_for("/").rstrip("/"),
        auth=HttpAuth(basic_auth_secret="test-basic-auth"),
        http=FAST,
    )
    return source, api


def test_hubspot_after_paging_and_watermark_with_records_at_the_same_instant(httpserver):
    pages = {
        None: {
            "results": [contact(1, "2026-10-01T00:00:00Z"), contact(2, "2026-10-05T00:00:00Z")],
            "paging": {"next": {"after": "2"}},
        },
        "2": {"results": [contact(3, "2026-10-05T00:00:00Z"), contact(4, "2026-10-06T00:00:00Z")]},
    }
    source, api = hubspot(httpserver, pages)
    first = source.extract({}, False)
    assert list(first.frame["customer_id"]) == ["1", "2", "3", "4"]
    assert first.frame.loc[0, "name"] == "Ann Lee1"
    assert first.state == {"watermark": "2026-10-06T00:00:00+00:00"}
    again = source.extract({"watermark": "2026-10-05T00:00:00+00:00"}, False)
    assert list(again.frame["customer_id"]) == ["2", "3", "4"]  # both at 10-05 kept
    assert api.requests[0]["auth"].startswith("Basic ")
    assert api.requests[0]["args"]["limit"] == "100"


def test_hubspot_watermark_in_the_future_reads_nothing_and_warns(httpserver):
    source, api = hubspot(httpserver, {None: {"results": []}})
    got = source.extract({"watermark": "2999-01-01T00:00:00+00:00"}, False)
    assert len(got.frame) == 0 and api.requests == []
    assert got.state == {"watermark": "2999-01-01T00:00:00+00:00"}
    assert "in the future" in got.warnings[0]


POST_COLUMNS = {
    "post_id": "id",
    "platform": "network",
    "author_handle": "author.handle",
    "author_display_name": "author.name",
    "text": "body",
    "posted_at": "published",
    "reply_to_id": "parent",
    "likes": "stats.likes",
    "shares": "stats.shares",
    "author_followers": "author.followers",
}


def post(i: int) -> dict:
    return {
        "id": f"X{i}",
        "network": "twitter",
        "body": f"post {i}",
        "published": f"2026-10-0{i}T10:00:00Z",
        "parent": None,
        "author": {"handle": f"h{i}", "name": "N", "followers": 10},
        "stats": {"likes": i, "shares": 0},
    }


def test_json_api_cursor_paging_by_json_paths(httpserver):
    pages = {
        None: {"data": {"items": [post(1), post(2)]}, "meta": {"next": "n1"}},
        "n1": {"data": {"items": [post(3)]}, "meta": {"next": None}},
    }
    api = ScriptedApi(pages, cursor_arg="next")
    httpserver.expect_request("/mentions").respond_with_handler(api)
    source = JsonApiSource(
        name="listening",
        dataset="social_posts",
        url=httpserver.url_for("/mentions"),
        records_path="$.data.items[*]",
        next_cursor_path="$.meta.next",
        cursor_param="next",
        columns=POST_COLUMNS,
        http=FAST,
        watermark_column="posted_at",
    )
    got = source.extract({"watermark": "2026-10-02T10:00:00+00:00"}, False)
    assert list(got.frame["post_id"]) == ["X2", "X3"]
    assert got.frame.loc[0, "author_handle"] == "h2" and got.frame.loc[0, "likes"] == "2"
    assert got.state == {"watermark": "2026-10-03T10:00:00+00:00"}


def test_json_api_page_number_paging_stops_on_an_empty_page(httpserver):
    calls = []

    def handler(request: Request) -> Response:
        page = int(request.args["page"])
        calls.append((page, request.args.get("per_page")))
        items = [post(page)] if page <= 2 else []
        return Response(json.dumps({"data": items}), content_type="application/json")

    httpserver.expect_request("/export").respond_with_handler(handler)
    source = JsonApiSource(
        name="export",
        dataset="social_posts",
        url=httpserver.url_for("/export"),
        paging="page",
        page_size=50,
        columns=POST_COLUMNS,
        http=FAST,
    )
    got = source.extract({}, False)
    assert list(got.frame["post_id"]) == ["X1", "X2"]
    assert calls == [(1, "50"), (2, "50"), (3, "50")]
