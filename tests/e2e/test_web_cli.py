"""``patronage users`` and ``patronage web`` the way an admin runs them: real processes, a
real port, a password typed on standard input."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from factories_web import PASSWORD, seed, wait_until_serving

from patronage.resources.database import make_engine

from factories import free_port

PATRONAGE = str(Path(sys.executable).with_name("patronage"))


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PATRONAGE, *args], input=stdin, capture_output=True, text=True, timeout=300,
        env=os.environ,
    )  # fmt: skip


def test_users_commands_manage_who_may_sign_in(tmp_path):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    added = _cli("users", "add", "nora", "--role", "agent", "--team", "team-east",
                 "--password-stdin", "--database-url", db, stdin="a long enough secret\n")  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    assert "a long enough secret" not in added.stdout + added.stderr
    listed = _cli("users", "list", "--database-url", db)
    assert re.search(r"nora\s*│\s*agent\s*│\s*team-east", listed.stdout), listed.stdout
    bad_role = _cli("users", "add", "olaf", "--role", "boss", "--no-password", "--database-url", db)
    assert bad_role.returncode == 2 and "role of olaf must be one of agent, product, admin" in (
        bad_role.stdout
    )
    short = _cli("users", "add", "olaf", "--role", "admin", "--password-stdin",
                 "--database-url", db, stdin="short\n")  # fmt: skip
    assert short.returncode == 2 and "at least 10 characters" in short.stdout
    assert "short" not in short.stdout.replace("short.", "")  # the password is not echoed
    teams = _cli("users", "set-teams", "nora", "--team", "team-west", "--team", "vip",
                 "--database-url", db)  # fmt: skip
    assert teams.returncode == 0 and "team-west, vip" in teams.stdout
    gone = _cli("users", "disable", "nora", "--database-url", db)
    assert gone.returncode == 0 and "nora disabled" in gone.stdout
    missing = _cli("users", "set-role", "zed", "admin", "--database-url", db)
    assert missing.returncode == 2 and "no user 'zed'" in missing.stdout


def test_patronage_web_serves_the_page(tmp_path):
    db = f"sqlite:///{tmp_path / 'p.db'}"
    engine = make_engine(db)
    seed(engine)
    engine.dispose()
    refused = _cli("web", "--auth", "proxy", "--database-url", db)
    assert refused.returncode == 2 and "--trusted-proxy" in refused.stdout
    port = free_port()
    server = subprocess.Popen(
        [PATRONAGE, "web", "--port", str(port), "--database-url", db],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, server)
        client = httpx.Client(base_url=base, follow_redirects=True)
        form = client.get("/sign-in")
        assert form.status_code == 200 and 'src="/static/htmx.min.js"' in form.text
        assert client.get("/static/htmx.min.js").status_code == 200
        assert client.get("/static/style.css").status_code == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        page = client.post(
            "/sign-in",
            data={"username": "ana", "password": PASSWORD, "csrf_token": token, "next": "/work"},
        )
        assert page.status_code == 200 and "RET-C1" in page.text
    finally:
        server.send_signal(signal.SIGINT)
        output = server.communicate(timeout=30)[0]
    # Paths carry customer ids: no access log lines, and no password anywhere.
    assert "GET /cases" not in output and "correct horse" not in output
