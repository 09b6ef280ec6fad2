"""Two test sessions at once on one machine (two clones, two developers, CI beside a developer)
must not see or break each other: each works in its own PostgreSQL database and temp dirs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from patronage.resources.database import make_engine
from tests.conftest import POSTGRES_SERVER_URL

from factories import REPO  # noqa: E402

# The database tests that used to collide on a shared database: concurrent claims, publishing,
# migrations (which drop and recreate tables).
SHARED_DATABASE_TESTS = [
    "tests/integration/test_work_queues.py",
    "tests/integration/test_publish.py",
    "tests/integration/test_migrations.py",
]
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _databases() -> set[str]:
    engine = make_engine(POSTGRES_SERVER_URL)
    with engine.connect() as conn:
        names = set(conn.execute(text("SELECT datname FROM pg_database")).scalars())
    engine.dispose()
    return names


def test_two_sessions_at_once_both_pass_and_leave_no_database_behind(postgres_url):
    before = _databases()
    assert make_url(postgres_url).database in before  # this session's own
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        "postgresql",
        *SHARED_DATABASE_TESTS,
    ]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    sessions = [
        subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [s.communicate(timeout=900)[0] for s in sessions]
    for session, output in zip(sessions, outputs, strict=True):
        assert session.returncode == 0, output[-4000:]
        assert " passed" in output.splitlines()[-1] and "skipped" not in output.splitlines()[-1]
    # Each session dropped what it created, and nothing else was touched.
    assert _databases() == before
