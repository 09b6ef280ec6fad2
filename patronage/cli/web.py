"""``patronage web`` serves the page people work the queues in; ``patronage users`` manages
who may sign in to it."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer
from rich.markup import escape

from patronage.cli.common import (
    _DATABASE_BLOCK,
    DatabaseUrl,
    _database,
    app,
    console,
    database_resource,
)

users_app = typer.Typer(
    help="People who sign in to the web page: roles (agent, product, admin) and teams.",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")

Teams = Annotated[
    list[str] | None,
    typer.Option("--team", help="A team whose retention cases the user works (repeat for more)."),
]


@app.command("web")
def web(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    database_url: DatabaseUrl = None,
    auth: Annotated[
        str, typer.Option(help="password (users sign in here) or proxy (an SSO proxy in front).")
    ] = "password",
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            help="Address or network whose user header and X-Forwarded-* are believed "
            "(repeat for more)."
        ),  # fmt: skip
    ] = None,
    user_header: Annotated[str, typer.Option(help="Header the proxy names the user in.")] = (
        "X-Forwarded-User"
    ),
    prefect_ui_url: Annotated[
        str | None,
        typer.Option(envvar="PATRONAGE_PREFECT_UI_URL", help="Prefect UI, for links to runs."),
    ] = None,
    privacy_key_secret: Annotated[
        str | None,
        typer.Option(
            envvar="PATRONAGE_PRIVACY_KEY_SECRET", help="Secret block with the erasure HMAC key."
        ),  # fmt: skip
    ] = None,
    session_hours: Annotated[int, typer.Option(help="How long a sign-in lasts.")] = 12,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes serving requests (about one per core).")
    ] = 1,
) -> None:
    """Serve the web page (My work, cases, ideas, admin pages) with uvicorn."""
    import uvicorn
    from prefect.settings import PREFECT_API_URL
    from pydantic import ValidationError

    from patronage.web.app import CONFIG_ENV, DATABASE_ENV, create_app
    from patronage.web.config import WebConfig

    try:
        config = WebConfig(
            prefect_api_url=PREFECT_API_URL.value() or None,
            auth=auth, trusted_proxies=trusted_proxy or [], user_header=user_header,
            prefect_ui_url=prefect_ui_url, privacy_key_secret=privacy_key_secret,
            session_hours=session_hours,
        )  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        console.print(f"[red]--{'-'.join(map(str, first['loc']))}: {escape(first['msg'])}[/red]")
        raise typer.Exit(code=2) from None
    if config.auth == "proxy" and not config.trusted_proxies:
        console.print("[red]--auth proxy needs --trusted-proxy ADDRESS (the proxy in front)[/red]")
        raise typer.Exit(code=2)
    database = database_resource(database_url, must_exist=False)
    served = {
        "host": host,
        "port": port,
        "proxy_headers": bool(config.trusted_proxies),
        "forwarded_allow_ips": ",".join(config.trusted_proxies) or None,
        "log_level": "info",
        "access_log": False,  # paths carry case and customer ids; errors are still logged
    }
    console.print(
        f"Patronage web on http://{host}:{port} ({config.auth} sign-in, {workers} worker(s))"
    )
    if workers > 1:
        # Each worker process builds its own app and engine from the environment.
        os.environ[DATABASE_ENV] = json.dumps(
            {"block": _DATABASE_BLOCK["name"]}
            if _DATABASE_BLOCK["name"]
            else {"url": database.url, "password_secret": database.password_secret}
        )
        os.environ[CONFIG_ENV] = config.model_dump_json()
        uvicorn.run(
            "patronage.web.app:app_from_environment", factory=True, workers=workers, **served
        )
        return
    engine = database.make_engine()
    try:
        uvicorn.run(create_app(engine, config), **served)
    finally:
        engine.dispose()


def _password(from_stdin: bool, username: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)


def _users(action, database_url: str | None, *args):
    from patronage.web.users import UserError

    try:
        with _database(database_url, must_exist=False) as engine:
            return action(engine, *args)
    except UserError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Sign-in name (recorded as the actor).")],
    role: Annotated[str, typer.Option(help="agent, product or admin.")],
    team: Teams = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input (one line).")
    ] = False,
    no_password: Annotated[
        bool, typer.Option(help="No password: the user signs in only through --auth proxy.")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a user (asks for the password unless --password-stdin or --no-password)."""
    from patronage.web.users import add_user

    password = None if no_password else _password(password_stdin, username)
    _users(add_user, database_url, username, role, password, team or [])
    console.print(f"user {escape(username)} added as {role}")


@users_app.command("set-role")
def users_set_role(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Argument(help="agent, product or admin.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Change a user's role."""
    from patronage.web.users import set_role

    _users(set_role, database_url, username, role)
    console.print(f"{escape(username)} is now {role}")


@users_app.command("set-teams")
def users_set_teams(
    username: Annotated[str, typer.Argument()], team: Teams = None, database_url: DatabaseUrl = None
) -> None:
    """Replace the teams a user belongs to (no --team: none)."""
    from patronage.web.users import set_teams

    _users(set_teams, database_url, username, team or [])
    console.print(f"{escape(username)} belongs to: {escape(', '.join(team or [])) or 'no team'}")


@users_app.command("set-password")
def users_set_password(
    username: Annotated[str, typer.Argument()],
    password_stdin: Annotated[bool, typer.Option(help="Read it from standard input.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Set a new password; the user's sessions end."""
    from patronage.web.users import set_password

    ended = _users(set_password, database_url, username, _password(password_stdin, username))
    console.print(f"password of {escape(username)} changed; {ended} session(s) ended")


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument()], database_url: DatabaseUrl = None
) -> None:
    """Disable a user: their sessions end at once."""
    from patronage.web.users import set_disabled

    ended = _users(set_disabled, database_url, username, True)
    console.print(f"{escape(username)} disabled; {ended} session(s) ended")


@users_app.command("enable")
def users_enable(
    username: Annotated[str, typer.Argument()], database_url: DatabaseUrl = None
) -> None:
    """Let a disabled user sign in again."""
    from patronage.web.users import set_disabled

    _users(set_disabled, database_url, username, False)
    console.print(f"{escape(username)} enabled")


@users_app.command("list")
def users_list(database_url: DatabaseUrl = None) -> None:
    """Every user with role, teams and whether disabled."""
    from rich.table import Table

    from patronage.web.users import list_users

    found = _users(list_users, database_url)
    table = Table(title=f"Users ({len(found)})", title_justify="left")
    for col in ("user", "role", "teams", "password", "disabled"):
        table.add_column(col)
    for u in found:
        table.add_row(escape(u["username"]), u["role"], escape(", ".join(u["teams"])),
                      "yes" if u["password"] else "no", "yes" if u["disabled"] else "no")  # fmt: skip
    console.print(table)
