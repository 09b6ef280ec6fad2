"""REST sources in the shapes of the market leaders' APIs, plus a configurable JSON API."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import httpx
import pandas as pd
from jsonpath_ng import parse as parse_path
from pydantic import Field

from patronage.schemas.contracts import CONTRACTS
from patronage.tasks.io.sources.base import (
    Extraction,
    SourceConfig,
    SourceError,
    advance_watermark,
    parse_watermark,
    require_watermark_column,
    rows_since,
    watermark_in_future,
)
from patronage.tasks.io.sources.http import HttpAuth, HttpPolicy, build_auth, get_json
from patronage.tasks.transforms.validation.map_records import map_records

MAX_PAGES = 100_000


class RestSource(SourceConfig):
    """Shared by REST sources: where, how to authenticate, how hard to retry."""

    auth: HttpAuth = Field(default_factory=HttpAuth)
    http: HttpPolicy = Field(default_factory=HttpPolicy)
    default_columns: ClassVar[dict[str, str | list[str]]] = {}

    @property
    def is_incremental(self) -> bool:
        return True

    def column_map(self) -> dict[str, str | list[str]]:
        contract = CONTRACTS[self.dataset]
        merged = {**self.default_columns, **self.columns}
        return {c: merged.get(c, c) for c in contract.columns}

    def client(self) -> httpx.Client:
        headers, auth = build_auth(self.auth)
        return httpx.Client(
            headers={"Accept": "application/json", **headers}, auth=auth, follow_redirects=False
        )

    def _finish(
        self,
        frames: list[pd.DataFrame],
        unknown: Counter,
        state: dict,
        warnings: list[str] | None = None,
    ) -> Extraction:
        keys = list(CONTRACTS[self.dataset].keys)
        frame = (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=list(self.column_map()), dtype=object)
        )
        # A page served twice (or a record that moved between pages) arrives once: last wins.
        frame = frame.drop_duplicates(keys, keep="last").reset_index(drop=True)
        values = frame.pop(WATERMARK_VALUE) if WATERMARK_VALUE in frame else None
        return Extraction(
            self.name,
            self.dataset,
            frame,
            state,
            incremental=True,
            unknown_fields=unknown,
            warnings=warnings or [],
            watermark_values=values,
        )


# Column carrying each record's watermark value through de-duplication (not a staging column).
WATERMARK_VALUE = "__watermark__"


# Tickets Patronage writes to Zendesk for retention cases carry this tag and a case id.
PATRONAGE_TAG = "patronage"
CASE_ID_PREFIX = "RET-"


class ZendeskTicketsSource(RestSource):
    """Zendesk's cursor-based incremental ticket export.

    ``GET {base_url}/api/v2/incremental/tickets/cursor.json?start_time=…`` first, then
    ``?cursor={after_cursor}`` until ``end_of_stream``. The last ``after_cursor`` is the state.
    """

    kind: Literal["zendesk_tickets"] = "zendesk_tickets"
    dataset: str = "tickets"
    base_url: str = Field(..., description="e.g. https://acme.zendesk.com")
    start_time: int = Field(0, ge=0, description="Unix time of the first export (no cursor yet).")
    default_columns: ClassVar[dict[str, str | list[str]]] = {
        "ticket_id": "id",
        "requester_email": "via.source.from.address",
        "requester_name": "via.source.from.name",
        "via_handle": "via.source.from.username",
        "subject": "subject",
        "body": "description",
        "status": "status",
        "priority": "priority",
        "created_at": "created_at",
        "updated_at": "updated_at",
        "satisfaction": "satisfaction_rating.score",
    }

    @staticmethod
    def created_by_patronage(ticket: dict) -> bool:
        """A ticket Patronage wrote for a retention case (tagged ``patronage``, ``external_id``
        a case id): it must not come back as if the customer had opened it."""
        tags = ticket.get("tags") or []
        external = str(ticket.get("external_id") or "")
        return PATRONAGE_TAG in tags or external.startswith(CASE_ID_PREFIX)

    def extract(self, state: dict[str, str | None], full_refresh: bool) -> Extraction:
        url = self.base_url.rstrip("/") + "/api/v2/incremental/tickets/cursor.json"
        cursor = None if full_refresh else state.get("cursor")
        if cursor is None and self.start_time > datetime.now(UTC).timestamp() + 300:
            return self._finish(
                [],
                Counter(),
                dict(state),
                [f"{self.name}: start_time {self.start_time} is in the future; no rows read"],
            )
        params: dict[str, Any] = {"cursor": cursor} if cursor else {"start_time": self.start_time}
        frames, unknown, seen = [], Counter(), set()
        with self.client() as client:
            for page in range(1, MAX_PAGES + 1):
                body = get_json(client, self.name, url, params, self.http)
                if "tickets" not in body:
                    raise SourceError(
                        f"{self.name}: response of page {page} has no 'tickets' field"
                    )
                frame, page_unknown = map_records(
                    [t for t in body["tickets"] if not self.created_by_patronage(t)],
                    self.dataset,
                    self.column_map(),
                    self.name,
                    f"page {page}",
                )
                frames.append(frame)
                unknown.update(page_unknown)
                after = body.get("after_cursor")
                if after:
                    cursor = after
                if body.get("end_of_stream") or not after or after in seen:
                    break
                seen.add(after)
                params = {"cursor": after}
        return self._finish(frames, unknown, {"cursor": cursor})


class HubSpotObjectsSource(RestSource):
    """HubSpot CRM objects (contacts, deals…): ``GET /crm/v3/objects/{type}?limit&after``.

    Incremental by ``updatedAt``: records at or after the stored watermark are kept (a record
    at exactly the watermark is read again and upserted, so none at the same instant is lost).
    """

    kind: Literal["hubspot_objects"] = "hubspot_objects"
    dataset: str = "customers"
    base_url: str = Field("https://api.hubapi.com", description="API root.")
    object_type: str = Field("contacts", description="CRM object type.")
    properties: list[str] = Field(
        default_factory=lambda: [
            "email",
            "firstname",
            "lastname",
            "phone",
            "city",
            "hubspot_owner_id",
            "createdate",
            "twitterhandle",
        ],
        description="Properties requested.",
    )
    page_size: int = Field(100, ge=1, le=100)
    default_columns: ClassVar[dict[str, str | list[str]]] = {
        "customer_id": "id",
        "name": ["properties.firstname", "properties.lastname"],
        "email": "properties.email",
        "phone": "properties.phone",
        "city": "properties.city",
        "account_owner": "properties.hubspot_owner_id",
        "social_handles": "properties.twitterhandle",
        "signup_date": "properties.createdate",
    }

    def extract(self, state: dict[str, str | None], full_refresh: bool) -> Extraction:
        previous = None if full_refresh else state.get("watermark")
        warning = watermark_in_future(previous, self.name)
        if warning:
            return self._finish([], Counter(), dict(state), [warning])
        since = parse_watermark(previous)
        url = f"{self.base_url.rstrip('/')}/crm/v3/objects/{self.object_type}"
        params: dict[str, Any] = {"limit": self.page_size, "properties": ",".join(self.properties)}
        frames, unknown, stamps, seen = [], Counter(), [], set()
        with self.client() as client:
            for page in range(1, MAX_PAGES + 1):
                body = get_json(client, self.name, url, params, self.http)
                if "results" not in body:
                    raise SourceError(
                        f"{self.name}: response of page {page} has no 'results' field"
                    )
                records = body["results"]
                for record in records:
                    if "updatedAt" not in record:
                        raise SourceError(
                            f"{self.name}: required field 'updatedAt' is missing from a "
                            f"record of page {page}"
                        )
                stamps += [r["updatedAt"] for r in records]
                if since is not None:
                    records = [r for r in records if parse_watermark(r["updatedAt"]) >= since]
                frame, page_unknown = map_records(
                    records, self.dataset, self.column_map(), self.name, f"page {page}"
                )
                frame[WATERMARK_VALUE] = [r["updatedAt"] for r in records]
                frames.append(frame)
                unknown.update(page_unknown)
                after = (body.get("paging") or {}).get("next", {}).get("after")
                if not after or after in seen:
                    break
                seen.add(after)
                params = {**params, "after": after}
        watermark = advance_watermark(pd.DataFrame({"t": stamps}), "t", previous)
        extraction = self._finish(frames, unknown, {"watermark": watermark})
        extraction.previous_watermark = previous
        return extraction


class JsonApiSource(RestSource):
    """Any JSON API (social-listening exports…), paged by page number or by cursor.

    Records are found at ``records_path``; with cursor paging the next cursor at
    ``next_cursor_path`` (both JSON paths). Incremental by ``watermark_column`` (a staging column),
    sent as ``watermark_param`` when the API can filter, and filtered here in any case.
    """

    kind: Literal["json_api"] = "json_api"
    url: str = Field(..., description="Endpoint URL.")
    records_path: str = Field("$.data[*]", description="JSON path of the records in a page.")
    paging: Literal["cursor", "page", "none"] = "cursor"
    cursor_param: str = "cursor"
    next_cursor_path: str = Field(
        "$.next_cursor", description="JSON path of the next cursor (empty/absent: last page)."
    )
    page_param: str = "page"
    first_page: int = 1
    page_size_param: str | None = "per_page"
    page_size: int = Field(100, ge=1)
    query: dict[str, str] = Field(default_factory=dict, description="Extra query parameters.")
    watermark_column: str | None = None
    watermark_param: str | None = None

    def extract(self, state: dict[str, str | None], full_refresh: bool) -> Extraction:
        previous = None if full_refresh else state.get("watermark")
        warning = watermark_in_future(previous, self.name)
        if warning:
            return self._finish([], Counter(), dict(state), [warning])
        records_at, next_at = parse_path(self.records_path), parse_path(self.next_cursor_path)
        params: dict[str, Any] = dict(self.query)
        if self.watermark_param and previous:
            params[self.watermark_param] = previous
        if self.paging == "page":
            params[self.page_param] = self.first_page
            if self.page_size_param:
                params[self.page_size_param] = self.page_size
        frames, unknown, seen = [], Counter(), set()
        with self.client() as client:
            for page in range(1, MAX_PAGES + 1):
                body = get_json(client, self.name, self.url, params, self.http)
                records = [m.value for m in records_at.find(body)]
                frame, page_unknown = map_records(
                    records, self.dataset, self.column_map(), self.name, f"page {page}"
                )
                frames.append(frame)
                unknown.update(page_unknown)
                if self.paging == "none" or not records:
                    break
                if self.paging == "page":
                    params[self.page_param] += 1
                    continue
                found = next_at.find(body)
                cursor = found[0].value if found else None
                if not cursor or cursor in seen:
                    break
                seen.add(cursor)
                params[self.cursor_param] = cursor
        extraction = self._finish(frames, unknown, {})
        if self.watermark_column:
            frame = extraction.frame
            if len(frame):
                require_watermark_column(frame, self.watermark_column, self.name)
            extraction.frame = rows_since(frame, self.watermark_column, previous)
            extraction.state = {
                "watermark": advance_watermark(frame, self.watermark_column, previous)
            }
            extraction.watermark_values = extraction.frame[self.watermark_column]
            extraction.previous_watermark = previous
        return extraction
