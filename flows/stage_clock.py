"""Times each stage of a flow once, in one place: seconds, the rows the stage produced, and the
process's peak memory once it ended."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def peak_memory_mib() -> float | None:
    """The process's peak resident memory so far, in MiB (None where the OS does not say)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux counts kilobytes, macOS bytes.
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


class StageClock:
    """Runs stage functions and records ``{"rows", "seconds", "peak_mib"}`` per stage name.

    A stage's rows are its result's ``rows`` attribute (every stage result has one);
    ``peak_mib`` is the process's peak memory when the stage ended, so the stage that first
    shows the night's peak is the one that reached it.
    """

    def __init__(self) -> None:
        self.stages: dict[str, dict[str, float | int | None]] = {}

    def run(self, name: str, stage: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        started = time.perf_counter()
        result = stage(*args, **kwargs)
        self.stages[name] = {
            "rows": int(getattr(result, "rows", 0)),
            "seconds": time.perf_counter() - started,
            "peak_mib": peak_memory_mib(),
        }
        return result
