"""Test fixtures. Prefect's home and result storage point at a temp dir before Prefect loads."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_PREFECT_TMP = Path(tempfile.mkdtemp(prefix="patronage-tests-"))
os.environ["PREFECT_HOME"] = str(_PREFECT_TMP / "prefect-home")
os.environ["PREFECT_LOCAL_STORAGE_PATH"] = str(_PREFECT_TMP / "results")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"
os.environ["GX_ANALYTICS_ENABLED"] = "False"
(_PREFECT_TMP / "prefect-home").mkdir(parents=True, exist_ok=True)

import pytest  # noqa: E402
from sqlalchemy import text  # noqa: E402

from patronage.database import make_engine  # noqa: E402
from patronage.simulator import SampleSpec, write_sample  # noqa: E402

POSTGRES_URL = os.environ.get("PATRONAGE_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


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


def _postgres_available() -> bool:
    try:
        engine = make_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """An empty Patronage database on each backend. PostgreSQL must be up when CI=true."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'patronage.db'}"
    if not _postgres_available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL} and CI=true")
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    reset_postgres()
    return POSTGRES_URL


def reset_postgres() -> None:
    """Drop every table (migration history included) from the test database."""
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
