"""The web page for the people who work the queues: FastAPI, server-rendered Jinja pages,
htmx for in-place actions, static files from the package. ``create_app`` wires it to an
engine; ``patronage web`` serves it with uvicorn."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.datastructures import MutableHeaders

from patronage.resources.database import ensure_schema
from patronage.web.auth import Forbidden, NotSignedIn, set_session_cookie
from patronage.web.config import WebConfig
from patronage.web.render import render
from patronage.web.views import admin, cases, health, ideas, sign_in

logger = logging.getLogger("patronage.web")
STATIC = Path(__file__).parent / "static"
# Every page and action; each route names the roles it serves (``auth.Role``).
ROUTERS = tuple(m.router for m in (sign_in, cases, ideas, admin, health))
SECURITY_HEADERS = {
    # Scripts and styles only from our own files: injected markup cannot run or restyle.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(engine: Engine, config: WebConfig | None = None) -> FastAPI:
    """The web application on ``engine`` (brought to the newest schema first).

    Args:
        engine: The Patronage database (the caller owns and disposes of it).
        config: Sign-in mode, proxies, limits; defaults to password sign-in.
    """
    ensure_schema(engine)
    app = FastAPI(title="Patronage", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine
    app.state.config = config or WebConfig()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        if request.app.state.config.auth == "proxy":
            return render(request, "error.html", 401, title="Not signed in",
                          message="Sign in through your company's single sign-on.")  # fmt: skip
        target = "/sign-in?next=" + quote(request.url.path, safe="/")
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        if request.method in ("GET", "HEAD"):
            return RedirectResponse(target, status_code=303)
        return render(request, "error.html", 401, title="Not signed in",
                      message="Your session ended; sign in again.")  # fmt: skip

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        logger.info("Refused %s %s: %s", request.method, request.url.path, exc)
        return render(request, "error.html", 403, title="Not allowed", message=str(exc))

    return app


class SecurityHeaders:
    """Headers on every answer (CSP, no sniffing, no framing, no caching of pages with customer
    data, HSTS over HTTPS), the server time, and the cookie of a session started for a user a
    trusted proxy named. Plain ASGI: it costs a header merge, not a task per request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = scope.get("path", "")

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not path.startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
                if scope.get("scheme") == "https":
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
                token = scope.get("state", {}).get("new_session_token")
                if token:
                    cookie = Response()
                    set_session_cookie(Request(scope), cookie, token)
                    headers.append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        await self.app(scope, receive, send_with_headers)


# ``patronage web --workers N`` starts N processes; each builds its app from these.
CONFIG_ENV = "PATRONAGE_WEB_CONFIG"
DATABASE_ENV = "PATRONAGE_WEB_DATABASE"


def app_from_environment() -> FastAPI:
    """The app of one worker process: its settings and database from the environment (the
    database as a block name, or a URL and the name of a Secret block: never a password)."""
    import json
    import os

    from patronage.resources.database import PatronageDatabase

    where = json.loads(os.environ[DATABASE_ENV])
    database = (
        PatronageDatabase.load(where["block"])
        if where.get("block")
        else PatronageDatabase(url=where["url"], password_secret=where.get("password_secret"))
    )
    config = WebConfig.model_validate_json(os.environ[CONFIG_ENV])
    return create_app(database.make_engine(), config)
