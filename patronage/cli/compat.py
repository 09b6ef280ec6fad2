"""Version combinations of Patronage's dependencies that are known to break it silently.

The pins in ``pyproject.toml`` keep these out of a fresh install; this list is for an
environment that was changed by hand (or by another package's pins) afterwards.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from packaging.version import Version

# (what breaks, predicate over installed versions)
KNOWN_BAD = [
    (
        "Prefect < 3.9 with SQLAlchemy >= 2.1: the server's scheduler fails every loop "
        '("Can\'t evaluate bulk DML statement") and no scheduled run is ever created',
        lambda v: v["prefect"] < Version("3.9") and v["sqlalchemy"] >= Version("2.1"),
    ),
    (
        'Prefect\'s server with FastAPI >= 0.151: it rejects the `"limit": null` its own client '
        "sends, so `prefect deploy` fails with a 422",
        lambda v: v["fastapi"] >= Version("0.151"),
    ),
]


def installed_versions(
    packages: tuple[str, ...] = ("prefect", "sqlalchemy", "fastapi"),
) -> dict[str, Version]:
    """The installed version of each package (``0`` when it is not installed)."""
    found: dict[str, Version] = {}
    for name in packages:
        try:
            found[name] = Version(version(name))
        except PackageNotFoundError:
            found[name] = Version("0")
    return found


def known_bad_combinations(versions: dict[str, Version] | None = None) -> list[str]:
    """What is wrong with ``versions`` (default: this environment's); empty when nothing is."""
    versions = versions or installed_versions()
    return [
        f"{why} (installed: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ")"
        for why, broken in KNOWN_BAD
        if broken(versions)
    ]
