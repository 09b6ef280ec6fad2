"""Times each stage of a flow once, in one place: seconds and the rows the stage produced."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class StageClock:
    """Runs stage functions and records ``{"rows", "seconds"}`` per stage name.

    A stage's rows are its result's ``rows`` attribute (every stage result has one).
    """

    def __init__(self) -> None:
        self.stages: dict[str, dict[str, float | int]] = {}

    def run(self, name: str, stage: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        started = time.perf_counter()
        result = stage(*args, **kwargs)
        self.stages[name] = {
            "rows": int(getattr(result, "rows", 0)),
            "seconds": time.perf_counter() - started,
        }
        return result
