"""Who is asking, and may they: the session (or trusted proxy header) behind a request, the
role a route needs, and the CSRF token every form must send back."""

from __future__ import annotations

import secrets

from fastapi import Depends, Request
from fastapi.responses import Response

from patronage.web.sessions import Session, find_session, start_session
from patronage.web.users import active_user

SESSION_COOKIE = "patronage_session"
# Before sign-in there is no session to hold a CSRF token: the sign-in form uses a cookie
# whose value the form must repeat (double submit).
SIGN_IN_CSRF_COOKIE = "patronage_signin_csrf"


class NotSignedIn(Exception):
    """No live session (or no user header from the proxy)."""


class Forbidden(Exception):
    """Signed in, but this is not theirs to open or do; the message says why."""


def current_session(request: Request) -> Session:
    """The session of the request's cookie; in proxy mode, of the user the trusted proxy names
    (a session is started for them, so forms have a CSRF token and disabling still ends it).

    Raises:
        NotSignedIn: Nobody is signed in.
        Forbidden: The user header came from an untrusted address, or names no active user.
    """
    engine = request.app.state.engine
    config = request.app.state.config
    token = request.cookies.get(SESSION_COOKIE)
    if config.auth == "proxy":
        name = request.headers.get(config.user_header)
        client = request.client.host if request.client else None
        if name is not None and not config.trusts(client):
            raise Forbidden(
                f"the {config.user_header} header is only believed from a trusted proxy"
            )
        if not name:
            raise NotSignedIn()
        session = find_session(engine, token)
        if session is None or session.user.username != name:
            with engine.connect() as conn:
                if active_user(conn, name) is None:
                    raise Forbidden(f"{name} is not an active Patronage user")
            token = start_session(engine, name, config.session_hours)
            request.state.new_session_token = token
            session = find_session(engine, token)
    else:
        session = find_session(engine, token)
    if session is None:
        raise NotSignedIn()
    request.state.viewer = session
    return session


class Role:
    """A route's guard: the roles that may use it (admins may use every route), and for any
    request that changes something, the session's CSRF token in the form or X-CSRF-Token."""

    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles) | {"admin"}

    async def __call__(self, request: Request, session: Session = Depends(current_session)):
        if session.user.role not in self.roles:
            raise Forbidden(
                f"a {session.user.role} may not open this page "
                f"(it is for: {', '.join(sorted(self.roles))})"
            )
        if request.method not in ("GET", "HEAD"):
            sent = request.headers.get("X-CSRF-Token")
            if sent is None:
                sent = (await request.form()).get("csrf_token")
            if not isinstance(sent, str) or not secrets.compare_digest(sent, session.csrf_token):
                raise Forbidden("the form's security token is missing or stale: reload the page")
        return session


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site path to go back to after a form (never another host)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """The session cookie: not readable by scripts, not sent by other sites' forms, and only
    over HTTPS when the page is served over HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=request.app.state.config.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
