"""Test fixtures. Prefect's home and result storage point at a temp dir before Prefect loads."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

_PREFECT_TMP = Path(tempfile.mkdtemp(prefix="patronage-tests-"))
os.environ["PREFECT_HOME"] = str(_PREFECT_TMP / "prefect-home")
os.environ["PREFECT_LOCAL_STORAGE_PATH"] = str(_PREFECT_TMP / "results")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
os.environ["GX_ANALYTICS_ENABLED"] = "False"
# Nothing a test runs may reach the developer's own default database.
os.environ["PATRONAGE_HOME"] = str(_PREFECT_TMP / "patronage-home")
os.environ.pop("PATRONAGE_DATABASE_URL", None)
# The encoder with int8 activations is built once per session here, not in the user's cache.
os.environ["PATRONAGE_CACHE"] = str(_PREFECT_TMP / "cache")
(_PREFECT_TMP / "prefect-home").mkdir(parents=True, exist_ok=True)

import pytest  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from patronage.resources.database import make_engine  # noqa: E402
from patronage.simulator import SampleSpec, write_sample  # noqa: E402

# The PostgreSQL *server* to test against, through a database that already exists there. The
# suite never writes to it: each session creates its own uniquely named database and drops it.
POSTGRES_SERVER_URL = os.environ.get(
    "PATRONAGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TEST_DATABASE = f"patronage_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session", autouse=True)
def prefect_harness():
    """One ephemeral Prefect API for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def sample_company(tmp_path_factory) -> tuple[Path, Path]:
    """A generated company of 400 customers: ``(exports, ground_truth)``."""
    root = tmp_path_factory.mktemp("company")
    write_sample(SampleSpec(customers=400, seed=11), root / "exports", root / "truth")
    return root / "exports", root / "truth"


def _server_engine():
    return make_engine(POSTGRES_SERVER_URL).execution_options(isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of this session's own PostgreSQL database, created here and dropped at the end.

    PostgreSQL must be up when CI=true; elsewhere the PostgreSQL cases are skipped without it.
    """
    server = _server_engine()
    try:
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{TEST_DATABASE}"'))
    except Exception as exc:
        server.dispose()
        where = make_url(POSTGRES_SERVER_URL).render_as_string(hide_password=True)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is not usable at {where} and CI=true: {exc}")
        pytest.skip(f"PostgreSQL is not usable at {where}: {exc}")
    yield (
        make_url(POSTGRES_SERVER_URL)
        .set(database=TEST_DATABASE)
        .render_as_string(hide_password=False)
    )
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{TEST_DATABASE}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """An empty Patronage database on each backend; PostgreSQL's is this session's own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'patronage.db'}"
    url = request.getfixturevalue("postgres_url")
    reset_postgres(url)
    return url


def reset_postgres(url: str) -> None:
    """Empty this session's own test database (tables and migration history)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
