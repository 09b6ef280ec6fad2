"""People who sign in to the web page: their role, teams and password (argon2id hashes).

Roles: ``agent`` works the retention cases of their teams, ``product`` works ideas, ``admin``
works quarantine, identity review, privacy and users (and may open every page). Disabling a
user ends their sessions at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, delete, insert, select, update

from patronage.resources.database import ensure_schema
from patronage.schemas.tables import user_teams, users, web_sessions

ROLES = ("agent", "product", "admin")
MIN_PASSWORD_LENGTH = 10
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps "no such user" and "wrong
# password" equally slow, so timing does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class UserError(ValueError):
    """A user change that cannot be made; the message names the user and the field."""


@dataclass(frozen=True)
class User:
    """A signed-in person.

    Attributes:
        username: Their sign-in name (what work logs record as the actor).
        role: ``agent``, ``product`` or ``admin``.
        teams: Teams whose retention cases they work (agents).
    """

    username: str
    role: str
    teams: tuple[str, ...] = ()

    def may_work_case(self, owner: str | None, assignee: str | None) -> bool:
        """Admins work every case; an agent the cases their teams own or they hold."""
        if self.role == "admin":
            return True
        return self.role == "agent" and (owner in self.teams or assignee == self.username)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _checked(username: str, role: str | None = None, password: str | None = None) -> None:
    if not USERNAME.match(username or ""):
        raise UserError(
            f"username {username!r} must be 1-128 letters, digits or . _ @ - "
            "(starting with a letter or digit)"
        )
    if role is not None and role not in ROLES:
        raise UserError(f"role of {username} must be one of {', '.join(ROLES)}, not {role!r}")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"password of {username} must have at least {MIN_PASSWORD_LENGTH} characters"
        )


def _existing(conn: Connection, username: str):
    row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    if row is None:
        raise UserError(f"no user {username!r}; add one with `patronage users add`")
    return row


def add_user(
    engine: Engine,
    username: str,
    role: str,
    password: str | None = None,
    teams: tuple[str, ...] | list[str] = (),
) -> None:
    """Create a user. Without a password they can only sign in through ``--auth proxy``.

    Raises:
        UserError: A bad name, role or password, or the user exists.
    """
    _checked(username, role, password)
    ensure_schema(engine)
    with engine.begin() as conn:
        if conn.execute(select(users.c.username).where(users.c.username == username)).first():
            raise UserError(f"user {username!r} already exists; use `patronage users set-role`")
        now = _now()
        conn.execute(
            insert(users).values(
                username=username,
                role=role,
                password_hash=_hasher.hash(password) if password else None,
                disabled=0,
                created_at=now,
                updated_at=now,
            )
        )
        _write_teams(conn, username, teams)


def _write_teams(conn: Connection, username: str, teams) -> None:
    conn.execute(delete(user_teams).where(user_teams.c.username == username))
    names = sorted({t.strip() for t in teams if t and t.strip()})
    if names:
        conn.execute(insert(user_teams), [{"username": username, "team": t} for t in names])


def _update(engine: Engine, username: str, end_sessions: bool, **values) -> int:
    """Change a user's row; with ``end_sessions``, sign them out everywhere. Returns the
    sessions ended."""
    ensure_schema(engine)
    with engine.begin() as conn:
        _existing(conn, username)
        conn.execute(
            update(users).where(users.c.username == username).values(**values, updated_at=_now())
        )
        if not end_sessions:
            return 0
        return conn.execute(
            delete(web_sessions).where(web_sessions.c.username == username)
        ).rowcount


def set_role(engine: Engine, username: str, role: str) -> None:
    """Change a user's role; their open sessions see it on their next request."""
    _checked(username, role)
    _update(engine, username, False, role=role)


def set_teams(engine: Engine, username: str, teams: list[str] | tuple[str, ...]) -> None:
    """Replace the teams a user belongs to."""
    ensure_schema(engine)
    with engine.begin() as conn:
        _existing(conn, username)
        _write_teams(conn, username, teams)


def set_password(engine: Engine, username: str, password: str) -> int:
    """Set a new password and end the user's sessions; returns the sessions ended."""
    _checked(username, password=password)
    return _update(engine, username, True, password_hash=_hasher.hash(password))


def set_disabled(engine: Engine, username: str, disabled: bool) -> int:
    """Disable (or enable) a user; disabling ends their sessions at once. Returns the sessions
    ended."""
    return _update(engine, username, disabled, disabled=int(disabled))


def list_users(engine: Engine) -> list[dict]:
    """Every user with role, teams and whether disabled (never the hash)."""
    ensure_schema(engine)
    with engine.connect() as conn:
        teams: dict[str, list[str]] = {}
        for name, team in conn.execute(select(user_teams).order_by(user_teams.c.team)):
            teams.setdefault(name, []).append(team)
        return [
            {
                "username": r.username,
                "role": r.role,
                "teams": teams.get(r.username, []),
                "disabled": bool(r.disabled),
                "password": r.password_hash is not None,
            }
            for r in conn.execute(
                select(
                    users.c.username, users.c.role, users.c.disabled, users.c.password_hash
                ).order_by(users.c.username)
            )
        ]


def active_user(conn: Connection, username: str) -> User | None:
    """The user if they exist and are not disabled."""
    row = conn.execute(
        select(users.c.role).where(users.c.username == username, users.c.disabled == 0)
    ).first()
    if row is None:
        return None
    teams = conn.execute(
        select(user_teams.c.team).where(user_teams.c.username == username).order_by("team")
    ).scalars()
    return User(username, row.role, tuple(teams))


def check_password(engine: Engine, username: str, password: str) -> User | None:
    """The user whose name and password these are, if they are active; else None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(users.c.password_hash).where(users.c.username == username, users.c.disabled == 0)
        ).first()
        stored = row.password_hash if row is not None else None
        try:
            _hasher.verify(stored or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if stored is None:
            return None
        return active_user(conn, username)
