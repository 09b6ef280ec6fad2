"""Where Patronage keeps its files and, by default, its database (read from the environment)."""

from __future__ import annotations

import os
from pathlib import Path

# The installed package folder: sample data, text models and seeds ship inside it.
PACKAGE_DIR = Path(__file__).resolve().parents[1]

DATABASE_URL_VARIABLE = "PATRONAGE_DATABASE_URL"
HOME_VARIABLE = "PATRONAGE_HOME"
CACHE_VARIABLE = "PATRONAGE_CACHE"


def patronage_home() -> Path:
    """``$PATRONAGE_HOME``, else ``~/.patronage``: where the default SQLite database lives."""
    return Path(os.environ.get(HOME_VARIABLE) or Path.home() / ".patronage").expanduser().resolve()


def cache_dir() -> Path:
    """``$PATRONAGE_CACHE``, else ``$XDG_CACHE_HOME/patronage``, else ``~/.cache/patronage``:
    files Patronage derives from what it ships (rebuilt when missing), shared by every
    ``PATRONAGE_HOME`` of the machine's user."""
    found = os.environ.get(CACHE_VARIABLE)
    if not found:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        found = Path(base) / "patronage"
    return Path(found).expanduser().resolve()


def default_database_url() -> str:
    """The database every entry point uses when none is given.

    ``$PATRONAGE_DATABASE_URL`` if set, else SQLite at ``$PATRONAGE_HOME/patronage.db``. It is an
    absolute location on purpose: the CLI, ``make demo``, a process worker (which runs in
    ``deployments/``) and ``patronage serve`` all find the same database whatever their working
    directory.
    """
    return os.environ.get(DATABASE_URL_VARIABLE) or f"sqlite:///{patronage_home() / 'patronage.db'}"
