"""Time the nightly flow on a generated company: `make bench` (CUSTOMERS=… to resize).

Prints the seconds each stage took and the peak resident memory of the process.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def main() -> None:
    customers = int(os.environ.get("CUSTOMERS", sys.argv[1] if len(sys.argv) > 1 else 20000))
    from patronage.flows.nightly import nightly
    from patronage.flows.parameters import NightlyParameters
    from patronage.simulator import SampleSpec, write_sample

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        counts = write_sample(SampleSpec(customers=customers, seed=1), root / "exports", None)
        print(
            f"generated {customers} customers, {counts['orders']} orders, "
            f"{counts['social_posts']} posts in {time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        summary = nightly(
            NightlyParameters(
                data_location=str(root / "exports"),
                database_url=f"sqlite:///{root / 'bench.db'}",
                as_of=date(2026, 10, 31),
            )
        )
        total = time.perf_counter() - started
    print(f"{'stage':<20}{'rows':>12}{'seconds':>10}")
    for name, stage in summary["stages"].items():
        print(f"{name:<20}{stage['rows']:>12}{stage['seconds']:>10.2f}")
    print(f"{'flow total':<20}{'':>12}{total:>10.2f}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
