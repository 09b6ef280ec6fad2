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
    for router in ROUTERS:
        app.include_router(router)

    @app.middleware("http")
    async def _headers(request: Request, call_next) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        # Server time of the request, for browsers' dev tools and the benchmark.
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            # Pages carry customer data: no cache on the way keeps a copy.
            response.headers.setdefault("Cache-Control", "no-store")
        if request.url.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        token = getattr(request.state, "new_session_token", None)
        if token:
            set_session_cookie(request, response, token)
        return response

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
