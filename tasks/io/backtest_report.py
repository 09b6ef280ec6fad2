"""The backtest's outputs: ``backtest.json``, two charts, and Prefect artifacts (ids and figures only)."""

from __future__ import annotations

import json
from pathlib import Path

from prefect import task
from prefect.artifacts import Artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from patronage.tasks.transforms.backtest.backtest_metrics import CAPTURE_AT

BACKTEST_ARTIFACT = "patronage-backtest"
SHOWN_AT = ("50", "100", "10%")


def backtest_rows(result: dict) -> list[dict]:
    """One row per list: capture at 50, 100 and 10 %, AUC among all and among repeat buyers."""
    rows = []
    for name, capture in result["capture"].items():
        rows.append(
            {
                "list": name,
                "as_of": result["as_of"],
                **{f"capture_{k}": capture[k] for k in SHOWN_AT},
                "auc_all": result["auc"][name]["all"],
                "auc_repeat": result["auc"][name]["repeat"],
            }
        )
    return rows


def render_backtest(result: dict, files: list[Path]) -> str:
    """Markdown for the backtest artifact: value capture, AUC, calibration, evidence, caveats."""
    lines = [
        f"# Patronage backtest as of {result['as_of']}, horizon {result['horizon_days']} days",
        "",
        f"{result['customers']} customers who had bought by the cut-off ({result['repeat_buyers']} "
        f"repeat buyers); {result['stopped']} bought nothing in the horizon, taking "
        f"{result['value_lost']:,.0f} of value. The queue held {result['queue_cases']} cases.",
        "",
        "## Share of the value lost held by the top k",
        "",
        "| list | " + " | ".join(CAPTURE_AT) + " | AUC all | AUC repeat |",
        "|---|" + "---:|" * (len(CAPTURE_AT) + 2),
    ]
    for name, capture in result["capture"].items():
        auc = result["auc"][name]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{capture[k]:.3f}" for k in CAPTURE_AT)
            + f" | {_fmt(auc['all'])} | {_fmt(auc['repeat'])} |"
        )
    lines += ["", "## Conversation signals", "", "| signal | customers | stopped with | without |"]
    lines.append("|---|---:|---:|---:|")
    for row in result["evidence"]:
        lines.append(
            f"| {row['signal']} | {row['customers_with']} | {_fmt(row['stopped_with'])} | "
            f"{_fmt(row['stopped_without'])} |"
        )
    lines += ["", "## Calibration of P(stop) by decile", "", "| decile | expected | actual |"]
    lines.append("|---:|---:|---:|")
    for row in result["calibration"]["p_stop"]:
        lines.append(f"| {row['decile']} | {row['expected']:.3f} | {row['actual']:.3f} |")
    if result.get("tuning"):
        t = result["tuning"]
        lines += [
            "",
            "## Tuned policy",
            "",
            f"In-sample capture {t['in_sample']:.3f} on {t['in_sample_cutoffs']} cut-off(s); "
            f"out-of-sample {t['out_of_sample']:.3f} on {t['out_of_sample_cutoff']} "
            f"(the policy in use: {t['out_of_sample_before']:.3f}). Written to `{t['policy_file']}`.",
        ]
    lines += ["", "## What may leak", ""] + [f"- {c}" for c in result["caveats"]]
    lines += ["", "## Files", ""] + [f"- `{f}`" for f in files]
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def write_backtest_files(result: dict, out_dir: Path) -> list[Path]:
    """``backtest.json``, ``gains.png`` and ``calibration.png`` in ``out_dir``; returns them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "backtest.json"
    report.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, curve in result["gains"].items():
        xs = [i / (len(curve) - 1) for i in range(len(curve))]
        ax.plot(xs, curve, label=name, linestyle="--" if name in ("random", "perfect") else "-")
    ax.set(xlabel="share of customers worked (by list)", ylabel="share of value lost captured")
    ax.set_title(f"Gains, as of {result['as_of']}, {result['horizon_days']}-day horizon")
    ax.legend(loc="lower right")
    gains = out_dir / "gains.png"
    fig.savefig(gains, dpi=100, bbox_inches="tight")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4.5))
    rows = result["calibration"]["p_stop"]
    ax.plot([r["expected"] for r in rows], [r["actual"] for r in rows], "o-", label="P(stop)")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="perfect calibration")
    ax.set(xlabel="expected share stopping (decile mean)", ylabel="actual share stopping")
    ax.set_title("Calibration of P(no purchase in the horizon)")
    ax.legend(loc="upper left")
    calibration = out_dir / "calibration.png"
    fig.savefig(calibration, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return [report, gains, calibration]


@task(cache_policy=NO_CACHE)
def report_backtest(result: dict, files: list[Path]) -> None:
    """A markdown artifact with every figure, and the figures table the nightly shows."""
    create_markdown_artifact(
        render_backtest(result, files),
        key=f"{BACKTEST_ARTIFACT}-report",
        description="Value capture, AUC, calibration and evidence of the retention queue",
    )
    create_table_artifact(
        backtest_rows(result),
        key=BACKTEST_ARTIFACT,
        description="The last backtest's figures per list (shown in each nightly's summary)",
    )


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def read_last_backtest() -> list[dict] | None:
    """The figures of the latest backtest run against this Prefect API, if any."""
    artifact = Artifact.get(BACKTEST_ARTIFACT)
    if artifact is None or not artifact.data:
        return None
    data = artifact.data
    return json.loads(data) if isinstance(data, str) else data
