"""No task hashes its inputs: Prefect's default cache key pickles every argument (whole
DataFrames, each run), which cost seconds per 100,000 rows and a copy of each frame in memory.
Patronage keeps its own stores (vectors, links, scores) instead of Prefect's result cache."""

from __future__ import annotations

import importlib
import pkgutil

from prefect import Task
from prefect.cache_policies import NO_CACHE

import patronage.flows
import patronage.tasks


def _tasks() -> dict[str, Task]:
    found: dict[str, Task] = {}
    for package in (patronage.tasks, patronage.flows):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            loaded = importlib.import_module(module.name)
            for name, value in vars(loaded).items():
                if isinstance(value, Task) and value.fn.__module__ == loaded.__name__:
                    found[f"{loaded.__name__}.{name}"] = value
    return found


def test_every_task_is_found():
    names = _tasks()
    assert "patronage.tasks.stages.validate_export.validate_export" in names
    assert len(names) >= 25


def test_no_task_hashes_its_inputs():
    hashing = [name for name, t in _tasks().items() if t.cache_policy is not NO_CACHE]
    assert hashing == []
