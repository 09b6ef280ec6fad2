"""Local stand-ins for the destinations, on 127.0.0.1, answering as their documentation says:
Slack incoming webhooks, HubSpot CRM v3 objects and v4 associations, Zendesk's tickets API
with ``Idempotency-Key``, and a real SMTP server (aiosmtpd) that records what arrives.
Each can be told to answer 429 (with ``Retry-After``), 5xx or 401 on demand; each counts."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter
from email import message_from_bytes
from email.policy import default as default_policy

from werkzeug.wrappers import Request, Response


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Faults:
    """Scripted failures: ``plan`` is a list of statuses answered before normal service, and
    ``every`` answers 429 to every n-th request (``every=10``: 10 %)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.plan: list[int] = []
        self.every = 0
        self.retry_after = "0"
        self.requests = 0
        self.delay = 0.0  # seconds each answer takes (so a killed run dies mid-send)

    def next_fault(self) -> Response | None:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.requests += 1
            if self.plan:
                status = self.plan.pop(0)
            elif self.every and self.requests % self.every == 0:
                status = 429
            else:
                return None
        headers = {"Retry-After": self.retry_after} if status == 429 else {}
        return Response(json.dumps({"status": "error", "code": status}), status, headers)


class FakeSlack:
    """POST /services/T/B/X with ``{"text": …}`` → 200 ``ok`` (Slack's webhook answers)."""

    path = "/services/T000/B000/XXXX"

    def __init__(self, server) -> None:
        self.server = server
        self.faults = Faults()
        self.texts: list[str] = []
        server.expect_request(self.path, method="POST").respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for(self.path)

    def handle(self, request: Request) -> Response:
        fault = self.faults.next_fault()
        if fault is not None:
            return fault
        self.texts.append(request.get_json()["text"])
        return Response("ok", 200, content_type="text/plain")


class FakeHubSpot:
    """Contacts search, tasks batch upsert by a unique property, v4 default associations."""

    def __init__(self, server, token: str = "pat-test", contacts: dict | None = None) -> None:
        self.server = server
        self.token = token
        self.faults = Faults()
        self.contacts = contacts or {}  # email → contact id
        self.tasks: dict[str, dict] = {}  # case id → task
        self.associations: set[tuple[str, str]] = set()
        self.upserts = 0
        self.reject_cases: set[str] = set()  # answered 422 (a property HubSpot refuses)
        server.expect_request(
            "/crm/v3/objects/contacts/search", method="POST"
        ).respond_with_handler(self.search)
        server.expect_request(
            "/crm/v3/objects/tasks/batch/upsert", method="POST"
        ).respond_with_handler(self.upsert)
        server.expect_request(
            "/crm/v3/objects/tasks/batch/read", method="POST"
        ).respond_with_handler(self.read)
        server.expect_request(
            re.compile(r"^/crm/v4/objects/tasks/\d+/associations/default/contacts/\d+$"),
            method="PUT",
        ).respond_with_handler(self.associate)

    def _denied(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return Response(
                json.dumps({"status": "error", "category": "INVALID_AUTHENTICATION"}), 401
            )
        return self.faults.next_fault()

    def search(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        email = request.get_json()["filterGroups"][0]["filters"][0]["value"]
        found = [{"id": self.contacts[email]}] if email in self.contacts else []
        return Response(json.dumps({"total": len(found), "results": found}), 200)

    def upsert(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        (item,) = request.get_json()["inputs"]
        case_id = item["id"]
        if case_id in self.reject_cases:
            return Response(json.dumps({"status": "error", "category": "VALIDATION_ERROR"}), 422)
        self.upserts += 1
        new = case_id not in self.tasks
        task = self.tasks.setdefault(case_id, {"id": str(9000 + len(self.tasks))})
        task["properties"] = item["properties"]
        body = {"status": "COMPLETE", "results": [{"id": task["id"], "new": new}]}
        return Response(json.dumps(body), 200)

    def read(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        wanted = {i["id"] for i in request.get_json()["inputs"]}
        results = [
            {
                "id": t["id"],
                "properties": {
                    **t["properties"],
                    "hs_lastmodifieddate": t.get("modified", "2026-12-01T08:00:00Z"),
                },
            }  # fmt: skip
            for t in self.tasks.values()
            if t["id"] in wanted
        ]
        return Response(json.dumps({"status": "COMPLETE", "results": results}), 200)

    def associate(self, request: Request) -> Response:
        denied = self._denied(request)
        if denied is not None:
            return denied
        parts = request.path.strip("/").split("/")  # crm v4 objects tasks ID associations …
        self.associations.add((parts[4], parts[-1]))
        return Response(json.dumps({"fromObjectId": parts[4], "toObjectId": parts[-1]}), 200)


class FakeZendesk:
    """POST /api/v2/tickets.json with ``Idempotency-Key``: a repeat with the same key and body
    returns the first ticket (``x-idempotency-lookup: hit``); the same key with another body is
    refused (400), as Zendesk documents."""

    def __init__(self, server, email: str = "agent@acme.example", token: str = "zd-token") -> None:
        self.server = server
        self.auth = (f"{email}/token", token)
        self.faults = Faults()
        self.tickets: list[dict] = []
        self.by_key: dict[str, tuple[str, Response]] = {}
        self.repeats = 0
        server.expect_request("/api/v2/tickets.json", method="POST").respond_with_handler(
            self.create
        )
        server.expect_request("/api/v2/tickets/show_many.json", method="GET").respond_with_handler(
            self.show_many
        )

    def show_many(self, request: Request) -> Response:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != self.auth:
            return Response(json.dumps({"error": "Couldn't authenticate you"}), 401)
        wanted = set(request.args.get("ids", "").split(","))
        found = [t for t in self.tickets if str(t["id"]) in wanted]
        return Response(json.dumps({"tickets": found}), 200)

    def create(self, request: Request) -> Response:
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != self.auth:
            return Response(json.dumps({"error": "Couldn't authenticate you"}), 401)
        fault = self.faults.next_fault()
        if fault is not None:
            return fault
        key = request.headers.get("Idempotency-Key")
        body = request.get_data(as_text=True)
        if key in self.by_key:
            first_body, first = self.by_key[key]
            if first_body != body:
                return Response(json.dumps({"error": "IdempotentRequestError"}), 400)
            self.repeats += 1
            return Response(first.get_data(), 201, {"x-idempotency-lookup": "hit"})
        ticket = dict(request.get_json()["ticket"], id=1000 + len(self.tickets))
        self.tickets.append(ticket)
        response = Response(json.dumps({"ticket": ticket}), 201, {"x-idempotency-lookup": "miss"})
        if key:
            self.by_key[key] = (body, response)
        return response


class RecordingSmtp:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts; it can
    be told to answer 451 (try later) to the next n messages."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.temporary_failures = 0
        self.delay = 0.0
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        if self.temporary_failures:
            self.temporary_failures -= 1
            return "451 4.3.0 try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"

    def __enter__(self) -> RecordingSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    def per_recipient(self) -> Counter:
        return Counter(m["To"] for m in self.messages)
