"""The backtest on generated companies: `make bench-backtest` (CUSTOMERS=… ROLLING=… to resize).

Generates a company (exports as of 2026-10-31), backtests the retention queue at the latest
cut-off that can be judged (and ROLLING−1 earlier ones, 30 days apart), and prints the value
capture and AUC of every list, the tuned policy's in- and out-of-sample capture, the seconds
each part took and the peak resident memory of the process.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def main() -> None:
    from patronage.flows.backtest import backtest
    from patronage.flows.parameters import BacktestParameters
    from patronage.simulator import SampleSpec, write_sample

    for customers in [int(c) for c in os.environ.get("CUSTOMERS", "2000,20000").split(",")]:
        rolling = int(os.environ.get("ROLLING", "3"))
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            started = time.perf_counter()
            counts = write_sample(SampleSpec(customers=customers, seed=3), root / "co", None)
            generated = time.perf_counter() - started
            started = time.perf_counter()
            report = backtest(
                BacktestParameters(
                    data_location=str(root / "co"),
                    rolling=rolling,
                    tune=rolling > 1,
                    out_dir=str(root / "out"),
                )
            )
            seconds = time.perf_counter() - started
        print(
            f"\n{customers:,} customers ({counts['orders']:,} orders, {counts['social_posts']:,} "
            f"posts, {counts['tickets']:,} tickets; generated in {generated:.0f} s): backtest of "
            f"{rolling} cut-off(s) up to {report['as_of']}, horizon {report['horizon_days']} days, "
            f"in {seconds:.1f} s"
        )
        print(
            f"{report['customers']:,} customers had bought, {report['repeat_buyers']:,} more than "
            f"once; {report['stopped']:,} stopped; {report['queue_cases']:,} cases"
        )
        print(
            f"{'list':<12}{'50':>7}{'100':>7}{'1%':>7}{'5%':>7}{'10%':>7}{'20%':>7}{'AUC':>8}{'AUC rep':>9}"
        )
        for name, capture in report["capture"].items():
            auc = report["auc"][name]
            cells = "".join(f"{capture[k]:>7.3f}" for k in capture)
            aucs = "".join(
                f"{'–' if auc[g] is None else format(auc[g], '.3f'):>{w}}"
                for g, w in (("all", 8), ("repeat", 9))
            )
            print(f"{name:<12}{cells}{aucs}")
        if "tuning" in report:
            t = report["tuning"]
            print(
                f"tuned: in-sample {t['in_sample']:.3f} ({t['in_sample_cutoffs']} cut-offs), "
                f"out-of-sample {t['out_of_sample']:.3f} vs {t['out_of_sample_before']:.3f} "
                f"with the default policy; evidence odds {t['policy']['evidence_odds']}"
            )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
