"""The environment the tests run in must not hold a dependency combination known to break."""

from __future__ import annotations

import pytest
from packaging.version import Version

from patronage.cli.compat import known_bad_combinations


def test_the_installed_versions_are_not_a_known_bad_combination():
    problems = known_bad_combinations()
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("prefect", "sqlalchemy", "fastapi", "broken"),
    [
        ("3.8.8", "2.1.9", "0.150.0", "scheduler"),
        ("3.8.8", "2.0.45", "0.151.0", "422"),
        ("3.9.1", "2.1.9", "0.155.0", "422"),
        ("3.8.8", "2.0.45", "0.150.0", None),
        ("3.9.1", "2.1.9", "0.150.0", None),
    ],
)
def test_known_bad_combinations_are_recognised(prefect, sqlalchemy, fastapi, broken):
    problems = known_bad_combinations(
        {
            "prefect": Version(prefect),
            "sqlalchemy": Version(sqlalchemy),
            "fastapi": Version(fastapi),
        }
    )
    if broken is None:
        assert problems == []
    else:
        assert len(problems) == 1 and broken in problems[0]
        assert f"prefect {prefect}" in problems[0]
