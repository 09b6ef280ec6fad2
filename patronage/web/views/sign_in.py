"""Signing in and out (password mode; an SSO proxy signs people in by itself)."""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from patronage.schemas.tables import users
from patronage.web.auth import (
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    Role,
    safe_next,
    set_session_cookie,
)
from patronage.web.render import render
from patronage.web.sessions import (
    end_session,
    record_failed_sign_in,
    sign_in_locked,
    start_session,
)
from patronage.web.users import check_password

logger = logging.getLogger("patronage.web")
router = APIRouter()


def _form(request: Request, status_code: int = 200, message: str | None = None) -> Response:
    token = request.cookies.get(SIGN_IN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request,
        "sign_in.html",
        status_code,
        csrf_token=token,
        message=message,
        next=safe_next(request.query_params.get("next")),
        viewer=None,
    )
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE, token, httponly=True, samesite="strict",
        secure=request.url.scheme == "https", path="/sign-in",
    )  # fmt: skip
    return response


@router.get("/sign-in")
def sign_in_form(request: Request) -> Response:
    return _form(request)


@router.post("/sign-in")
def sign_in(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form("/"),
) -> Response:
    engine = request.app.state.engine
    config = request.app.state.config
    expected = request.cookies.get(SIGN_IN_CSRF_COOKIE) or ""
    if not expected or not secrets.compare_digest(csrf_token, expected):
        return _form(request, 403, "The sign-in form expired; please try again.")
    address = request.client.host if request.client else "unknown"
    username = username.strip()[:128]
    if sign_in_locked(
        engine, username, address, config.lockout_minutes,
        config.failed_sign_ins_per_user, config.failed_sign_ins_per_address,
    ):  # fmt: skip
        logger.warning("Sign-in refused: too many failures for this user or address %s", address)
        return _form(
            request,
            429,
            f"Too many failed sign-ins. Try again in {config.lockout_minutes} minutes.",
        )
    user = check_password(engine, username, password) if username and password else None
    if user is None:
        record_failed_sign_in(engine, username, address)
        with engine.connect() as conn:
            known = conn.execute(select(users.c.username).where(users.c.username == username))
            who = username if known.first() else "an unknown user"
        # The password is never logged, nor a name that is no user's (it may be a password).
        logger.warning("Failed sign-in for %s from %s", who, address)
        return _form(request, 401, "Wrong username or password.")
    token = start_session(engine, user.username, config.session_hours)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, response, token)
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
def sign_out(request: Request, _session=Depends(Role("agent", "product", "admin"))) -> Response:
    end_session(request.app.state.engine, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
