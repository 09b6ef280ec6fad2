"""Sign-in sessions, failed sign-ins and the access log, all in the Patronage database.

The session cookie holds a random token; the database keeps its SHA-256, so a copy of the
table signs nobody in. Every request looks the session up together with the user, so a user
who is disabled (or whose session was ended) is signed out on their next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select

from patronage.schemas.tables import access_log, sign_in_attempts, user_teams, users, web_sessions
from patronage.web.users import User


@dataclass(frozen=True)
class Session:
    """A signed-in browser: who, and the token its forms must send back (CSRF)."""

    user: User
    csrf_token: str


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(engine: Engine, username: str, hours: int) -> str:
    """A new session for ``username``; returns the cookie's token."""
    token = secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as conn:
        # Expired sessions of anyone are swept here rather than by a job of their own.
        conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
        conn.execute(
            insert(web_sessions).values(
                token_hash=_digest(token),
                username=username,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    return token


def find_session(engine: Engine, token: str | None) -> Session | None:
    """The live session of a cookie token, with its active user; None otherwise."""
    if not token:
        return None
    # One round trip: the session, its user (active only) and their teams.
    query = (
        select(web_sessions.c.username, web_sessions.c.csrf_token, users.c.role, user_teams.c.team)
        .join(users, users.c.username == web_sessions.c.username)
        .outerjoin(user_teams, user_teams.c.username == users.c.username)
        .where(
            web_sessions.c.token_hash == _digest(token),
            web_sessions.c.expires_at > _now(),
            users.c.disabled == 0,
        )
        .order_by(user_teams.c.team)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    if not rows:
        return None
    teams = tuple(r.team for r in rows if r.team is not None)
    return Session(User(rows[0].username, rows[0].role, teams), rows[0].csrf_token)


def end_session(engine: Engine, token: str | None) -> None:
    """Sign a browser out."""
    if token:
        with engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == _digest(token)))


def record_failed_sign_in(engine: Engine, username: str, remote_addr: str) -> None:
    """Remember a failed sign-in (never the password tried)."""
    with engine.begin() as conn:
        conn.execute(
            insert(sign_in_attempts).values(
                username=username[:128], remote_addr=remote_addr[:64], at=_now()
            )
        )


def sign_in_locked(
    engine: Engine,
    username: str,
    remote_addr: str,
    window_minutes: int,
    per_user: int,
    per_address: int,
) -> bool:
    """Whether sign-ins for this user, or from this address, failed too often lately."""
    since = _now() - timedelta(minutes=window_minutes)
    with engine.connect() as conn:
        recent = sign_in_attempts.c.at >= since
        for_user = conn.execute(
            select(func.count()).where(recent, sign_in_attempts.c.username == username[:128])
        ).scalar_one()
        from_address = conn.execute(
            select(func.count()).where(recent, sign_in_attempts.c.remote_addr == remote_addr[:64])
        ).scalar_one()
    return for_user >= per_user or from_address >= per_address


def log_access(engine: Engine, actor: str, action: str, customer_id: str, route: str) -> None:
    """Record that ``actor`` viewed or exported one customer's data."""
    with engine.begin() as conn:
        conn.execute(
            insert(access_log).values(
                at=_now(), actor=actor, action=action, customer_id=customer_id, route=route[:255]
            )
        )
