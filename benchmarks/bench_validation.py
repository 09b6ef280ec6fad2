"""Validation cost: exactly 1M orders on their own, then its share of a whole nightly run.

`make bench-validation` (ORDERS=… to resize). Prints seconds and shares; asserts nothing.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
AS_OF = date(2026, 10, 31)


def synthetic_orders(n: int, customers: int, bad_share: float) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    stamps = pd.Timestamp("2024-11-01") + pd.to_timedelta(rng.integers(0, 730 * 86400, n), unit="s")
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i:08d}" for i in range(n)],
            "customer_id": [f"C{i:06d}" for i in rng.integers(1, customers + 1, n)],
            "ordered_at": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "amount": np.round(rng.gamma(2, 20, n), 2).astype(str),
        }
    )
    orders.loc[orders.index[:: int(1 / bad_share)], "amount"] = "n/a"
    return orders


def validation_alone(n: int, runs: int = 3) -> float:
    """Staging (text cast to types) and the suite apart, the median of ``runs`` runs."""
    import statistics

    from patronage.schemas.contracts import CONTRACTS
    from patronage.tasks.transforms.validation.stage_dataset import stage_dataset
    from patronage.tasks.transforms.validation.validate_dataset import validate_dataset

    orders = synthetic_orders(n, 100_000, 0.01)
    known = {"customers": {f"C{i:06d}" for i in range(1, 100_001)}}
    staging, suite = [], []
    for _ in range(runs):
        started = time.perf_counter()
        staged = stage_dataset(orders, CONTRACTS["orders"])
        staged_at = time.perf_counter()
        result = validate_dataset(staged, CONTRACTS["orders"], AS_OF, known)
        staging.append(staged_at - started)
        suite.append(time.perf_counter() - staged_at)
    stage_s, suite_s = statistics.median(staging), statistics.median(suite)
    print(f"{n:,} orders, {len(result.rejected):,} quarantined; median of {runs} runs:")
    print(f"  stage (text → types)          {stage_s:6.2f} s  {n / stage_s:>12,.0f} rows/s")
    print(f"  validate (suite + references) {suite_s:6.2f} s  {n / suite_s:>12,.0f} rows/s")
    total = stage_s + suite_s
    print(f"  both                          {total:6.2f} s  {n / total:>12,.0f} rows/s")
    return total


def share_of_nightly(target_orders: int) -> None:
    from patronage.flows.nightly import nightly
    from patronage.flows.parameters import NightlyParameters
    from patronage.simulator import SampleSpec, write_sample

    customers = max(1000, int(target_orders / 7.4))  # the simulator averages ~7.4 orders each
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        counts = write_sample(SampleSpec(customers=customers, seed=2), root / "exports", None)
        started = time.perf_counter()
        summary = nightly(
            NightlyParameters(
                data_location=str(root / "exports"),
                database_url=f"sqlite:///{root / 'b.db'}",
                as_of=AS_OF,
            )
        )
        wall = time.perf_counter() - started
    stages = summary["stages"]
    work = sum(s["seconds"] for s in stages.values())
    print(
        f"nightly on {customers:,} customers / {counts['orders']:,} orders / "
        f"{sum(counts.values()):,} rows in all:"
    )
    for name, stage in stages.items():
        print(
            f"  {name:<20}{stage['seconds']:>8.1f} s  {stage['seconds'] / work:>6.1%} of stage time"
        )
    print(
        f"  stages total {work:.1f} s; flow wall time {wall:.1f} s "
        f"(incl. Prefect's ephemeral server start); validation = "
        f"{stages['validate']['seconds'] / wall:.1%} of wall time"
    )


if __name__ == "__main__":
    n = int(os.environ.get("ORDERS", 1_000_000))
    validation_alone(n)
    share_of_nightly(n)
