"""The web page over real HTTP (uvicorn on 127.0.0.1): every route × every role, sign-in, CSRF,
sessions that end when a user is disabled, failed sign-ins rate-limited without the password
in any log, the SSO proxy mode, the access log, escaping, and claims racing on both backends."""

from __future__ import annotations

import logging
import re
import threading

import httpx
import pytest
from factories_web import HOSTILE_TITLE, PASSWORD, seed, serve
from sqlalchemy import select
from starlette.testclient import TestClient

from patronage.resources.database import make_engine
from patronage.schemas.tables import access_log
from patronage.web.app import ROUTERS, create_app
from patronage.web.config import WebConfig
from patronage.web.users import set_disabled

# Every route and who may use it ("anyone": no sign-in). A route missing here fails the test.
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("GET", "/sign-in"): {"anyone"},
    ("POST", "/sign-in"): {"anyone"},
    ("POST", "/sign-out"): {"agent", "product", "admin"},
    ("GET", "/"): {"agent", "product", "admin"},
    ("GET", "/work"): {"agent", "admin"},
    ("POST", "/work/claim-next"): {"agent", "admin"},
    ("GET", "/cases/{case_id}"): {"agent", "admin"},
    ("POST", "/cases/{case_id}/claim"): {"agent", "admin"},
    ("POST", "/cases/{case_id}/release"): {"agent", "admin"},
    ("POST", "/cases/{case_id}/snooze"): {"agent", "admin"},
    ("POST", "/cases/{case_id}/note"): {"agent", "admin"},
    ("POST", "/cases/{case_id}/resolve"): {"agent", "admin"},
    ("GET", "/ideas"): {"product", "admin"},
    ("GET", "/ideas/{idea_key}"): {"product", "admin"},
    ("POST", "/ideas/merge"): {"product", "admin"},
    ("POST", "/ideas/{idea_key}/split"): {"product", "admin"},
    ("POST", "/ideas/{idea_key}/status"): {"product", "admin"},
    ("GET", "/admin/quarantine"): {"admin"},
    ("POST", "/admin/quarantine/{entry_id}/fix"): {"admin"},
    ("GET", "/admin/identity"): {"admin"},
    ("POST", "/admin/identity/decide"): {"admin"},
    ("GET", "/admin/privacy"): {"admin"},
    ("POST", "/admin/privacy/export"): {"admin"},
    ("POST", "/admin/privacy/erase"): {"admin"},
    ("GET", "/admin/users"): {"admin"},
    ("POST", "/admin/users/{username}"): {"admin"},
    ("GET", "/health"): {"agent", "product", "admin"},
    ("GET", "/healthz"): {"anyone"},
}
PATH_VALUES = {"case_id": "RET-C1", "idea_key": "IDEA-A", "entry_id": "1", "username": "bo"}
SIGNED_IN_AS = {"agent": "ana", "product": "pia", "admin": "ada"}


def routes() -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        for method in route.methods - {"HEAD"}
    }


def sign_in(base: str, username: str, password: str = PASSWORD) -> tuple[httpx.Client, str]:
    """A browser-like client signed in through the form; returns it and its CSRF token."""
    client = httpx.Client(base_url=base, follow_redirects=False)
    form = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    done = client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
    )
    assert done.status_code == 303, done.text
    page = client.get("/health")
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('web') / 'patronage.db'}")
    seed(engine, extra_cases=60)
    with serve(engine) as base:
        yield base, engine
    engine.dispose()


def test_every_route_is_in_the_authorization_table():
    assert routes() == set(ALLOWED)


@pytest.mark.parametrize("viewer", ["anyone", "agent", "product", "admin"])
def test_each_role_reaches_exactly_its_routes(site, viewer):
    base, _ = site
    if viewer == "anyone":
        client, token = httpx.Client(base_url=base, follow_redirects=False), ""
    else:
        client, token = sign_in(base, SIGNED_IN_AS[viewer])
    wrong = []
    # Sign-out last: it ends the session the other requests use.
    for method, path in sorted(ALLOWED, key=lambda r: r == ("POST", "/sign-out")):
        url = path.format(**PATH_VALUES)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token, "next": "/work"})
        if "anyone" in ALLOWED[(method, path)]:
            # Open routes (sign-in has its own form token, tested below): no role check.
            ok = response.status_code < 500
        elif viewer in ALLOWED[(method, path)]:
            ok = response.status_code not in (401, 403) and response.status_code < 500
        elif viewer == "anyone":
            ok = response.status_code in (303, 401) and (
                method == "POST" or response.headers["location"].startswith("/sign-in")
            )
        else:
            ok = response.status_code == 403 and "Not allowed" in response.text
        if not ok:
            wrong.append(f"{method} {url}: {response.status_code}")
    assert not wrong, f"{viewer}: " + "; ".join(wrong)


def test_forms_without_the_session_token_are_refused(site):
    base, _ = site
    client, token = sign_in(base, "bo")
    assert client.post("/cases/RET-C3/note", data={"body": "hi"}).status_code == 403
    assert (
        client.post("/cases/RET-C3/note", data={"body": "hi", "csrf_token": "forged"}).status_code
        == 403
    )
    sent = client.post(
        "/cases/RET-C3/note", data={"body": "hi", "next": "/work"}, headers={"X-CSRF-Token": token}
    )
    assert sent.status_code == 303
    # The sign-in form has its own token: a cross-site post cannot sign anyone in.
    assert (
        httpx.post(f"{base}/sign-in", data={"username": "bo", "password": PASSWORD}).status_code
        == 403
    )


def test_an_agent_sees_and_works_only_their_teams_cases(site):
    base, _ = site
    client, token = sign_in(base, "wes")
    page = client.get("/work").text
    assert "RET-C4" in page and "RET-C1" not in page
    assert client.get("/cases/RET-C1").status_code == 403
    refused = client.post("/cases/RET-C1/claim", data={"csrf_token": token})
    assert refused.status_code == 403


def test_filters_and_paging(site):
    base, _ = site
    client, _ = sign_in(base, "ana")
    first = client.get("/work").text
    assert "63 open cases" in first and "Page 1 of 2" in first
    assert "RET-C69" in client.get("/work?page=2").text
    silver = client.get("/work?tier=silver").text
    assert "RET-C3" in silver and "RET-C2" not in silver and "1 open case<" in silver
    drop = client.get("/work?reason=alive_drop").text
    assert "RET-C3" in drop and "RET-C1" not in drop
    # A whole code matches, not a part of one: "drop" is no reason.
    assert "RET-C3" in client.get("/work?reason=drop").text  # unknown reason: no filter


def test_disabling_a_user_ends_their_session_at_once(site):
    base, engine = site
    client, _ = sign_in(base, "bo")
    assert client.get("/work").status_code == 200
    set_disabled(engine, "bo", True)
    try:
        after = client.get("/work")
        assert after.status_code == 303 and after.headers["location"].startswith("/sign-in")
        form = client.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        again = client.post(
            "/sign-in", data={"username": "bo", "password": PASSWORD, "csrf_token": token}
        )
        assert again.status_code == 401
    finally:
        set_disabled(engine, "bo", False)


def test_failed_sign_ins_are_rate_limited_and_never_log_the_password(site, caplog):
    base, _ = site
    client = httpx.Client(base_url=base)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text).group(1)
    guesses = [f"guess-number-{i}-secret" for i in range(5)]
    with caplog.at_level(logging.INFO, logger="patronage.web"):
        for guess in guesses:
            wrong = client.post(
                "/sign-in", data={"username": "rita", "password": guess, "csrf_token": token}
            )
            assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
        locked = client.post(
            "/sign-in", data={"username": "rita", "password": PASSWORD, "csrf_token": token}
        )
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Failed sign-in for rita" in logged
    assert not any(g in logged for g in guesses) and PASSWORD not in logged


def test_views_and_exports_of_a_customer_are_logged(site):
    base, engine = site
    client, token = sign_in(base, "ada")
    client.get("/cases/RET-C2")
    exported = client.post("/admin/privacy/export", data={"customer": "C2", "csrf_token": token})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/json")
    with engine.connect() as conn:
        rows = conn.execute(
            select(access_log.c.actor, access_log.c.action).where(access_log.c.customer_id == "C2")
        ).all()
    assert ("ada", "view") in rows and ("ada", "export") in rows


def test_customer_text_is_escaped_and_clipped_and_pages_carry_security_headers(site):
    base, _ = site
    client, _ = sign_in(base, "pia")
    for path in ("/ideas", "/ideas/IDEA-X"):
        page = client.get(path)
        assert page.status_code == 200
        assert "<script>document" not in page.text and 'href="javascript:' not in page.text
        assert "&lt;script&gt;document.title" in page.text
        assert len(page.content) < 100_000  # a megabyte of text is not sent whole
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"
    assert HOSTILE_TITLE[:20] not in client.get("/ideas").text


def test_healthz_answers_without_sign_in(site):
    base, _ = site
    answer = httpx.get(f"{base}/healthz")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"
    assert answer.json()["last_publish"] is not None


def test_session_cookie_flags(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    seed(engine)
    for scheme, secure in (("http", False), ("https", True)):
        client = TestClient(create_app(engine), base_url=f"{scheme}://testserver")
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text).group(
            1
        )
        done = client.post(
            "/sign-in",
            data={"username": "ana", "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        session = next(
            c for c in done.headers.get_list("set-cookie") if c.startswith("patronage_session=")
        )
        flags = [f.strip().lower() for f in session.split(";")]
        assert "httponly" in flags and "samesite=lax" in flags
        assert ("secure" in flags) is secure
    engine.dispose()


def test_proxy_mode_believes_the_user_header_only_from_trusted_addresses(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    seed(engine)
    trusted = WebConfig(auth="proxy", trusted_proxies=["127.0.0.0/8"])
    with serve(engine, trusted) as base:
        as_ana = httpx.Client(base_url=base, headers={"X-Forwarded-User": "ana"})
        page = as_ana.get("/work")
        assert page.status_code == 200 and "ana (agent)" in page.text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        noted = as_ana.post(
            "/cases/RET-C1/note", data={"body": "called", "csrf_token": token, "next": "/work"}
        )
        assert noted.status_code == 303
        assert httpx.get(f"{base}/work", headers={"X-Forwarded-User": "nobody"}).status_code == 403
        assert httpx.get(f"{base}/work").status_code == 401
        set_disabled(engine, "ana", True)
        assert as_ana.get("/work").status_code == 403
    untrusted = WebConfig(auth="proxy", trusted_proxies=["10.9.9.9"])
    with serve(engine, untrusted) as base:
        spoofed = httpx.get(f"{base}/work", headers={"X-Forwarded-User": "ada"})
        assert spoofed.status_code == 403 and "trusted proxy" in spoofed.text
    engine.dispose()


def test_two_agents_claiming_one_case_over_http_one_wins(database_url):
    engine = make_engine(database_url)
    seed(engine)
    with serve(engine) as base:
        clients = [sign_in(base, name) for name in ("ana", "bo")]
        barrier = threading.Barrier(2)
        answers: dict[str, httpx.Response] = {}

        def claim(name: str, client: httpx.Client, token: str) -> None:
            barrier.wait()
            answers[name] = client.post(
                "/cases/RET-C2/claim", data={"csrf_token": token}, headers={"HX-Request": "true"}
            )

        threads = [
            threading.Thread(target=claim, args=(name, c, t))
            for name, (c, t) in zip(("ana", "bo"), clients, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    codes = sorted(a.status_code for a in answers.values())
    assert codes == [200, 409], codes
    loser = next(a for a in answers.values() if a.status_code == 409)
    assert "already claimed by" in loser.text
    engine.dispose()


def test_health_shows_the_last_nightly_runs_state_from_the_prefect_api(tmp_path):
    from prefect import flow
    from prefect.settings import PREFECT_API_URL

    @flow(name="patronage-nightly")
    def failing_nightly() -> None:
        raise ValueError("orders: 12.0% of rows rejected (threshold 5%)")

    state = failing_nightly(return_state=True)
    run_id = str(state.state_details.flow_run_id)
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    seed(engine)
    config = WebConfig(prefect_api_url=PREFECT_API_URL.value(), prefect_ui_url="http://ui.test")
    with serve(engine, config) as base:
        client, _ = sign_in(base, "ana")
        page = client.get("/health").text
    assert "<strong>Failed</strong>" in page and run_id in page
    assert f'href="http://ui.test/runs/flow-run/{run_id}"' in page
    assert "12.0% of rows rejected" in page
    with serve(engine, WebConfig(prefect_api_url="http://127.0.0.1:9/api")) as base:
        client, _ = sign_in(base, "ana")
        page = client.get("/health").text
    assert "Last nightly run unknown: the Prefect API did not answer" in page
    assert "Last nightly publish" in page  # the database's part still shows
    engine.dispose()


def test_identity_review_shows_both_sides_and_a_decision_becomes_an_override(tmp_path):
    from patronage.schemas.tables import identity_candidates, identity_overrides

    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    seed(engine)
    with serve(engine) as base:
        client, token = sign_in(base, "ada")
        page = client.get("/admin/identity").text
        assert "twitter:maybe_c2" in page and "dana ro" in page and "dana rossi" in page
        decided = client.post(
            "/admin/identity/decide",
            data={"identity_key": "twitter:maybe_c2", "customer_id": "C2",
                  "decision": "accept", "csrf_token": token},
        )  # fmt: skip
        assert decided.status_code == 303
        assert "must-link recorded for customer C2" in client.get(decided.headers["location"]).text
    with engine.connect() as conn:
        override = conn.execute(
            select(identity_overrides.c.decision, identity_overrides.c.decided_by).where(
                identity_overrides.c.identity_key == "twitter:maybe_c2"
            )
        ).one()
        left = conn.execute(select(identity_candidates.c.identity_key)).all()
    assert tuple(override) == ("must_link", "ada") and left == []
    engine.dispose()


def test_claim_next_takes_the_top_free_case_of_the_agents_teams(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    seed(engine)
    with serve(engine) as base:
        wes, wes_token = sign_in(base, "wes")
        taken = wes.post("/work/claim-next", data={"csrf_token": wes_token})
        assert taken.status_code == 303 and taken.headers["location"] == "/cases/RET-C4"
        again = wes.post("/work/claim-next", data={"csrf_token": wes_token})
        assert again.status_code == 409 and "Nothing to claim" in again.text
        ana, ana_token = sign_in(base, "ana")
        firsts = [
            ana.post("/work/claim-next", data={"csrf_token": ana_token}).headers["location"]
            for _ in range(2)
        ]
    assert firsts == ["/cases/RET-C1", "/cases/RET-C2"]
    engine.dispose()
