"""Prefect artifacts for a run: a markdown summary and the top of each queue, ids only."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

CONTRACT_BREACHED_EVENT = "patronage.contract.breached"

TOP_N = 20


def render_run_summary(summary: dict) -> str:
    """Markdown for the run summary artifact. Contains counts and ids, never names or text."""
    lines = [
        f"# Patronage nightly run `{summary['run_id']}`",
        "",
        f"As of **{summary['as_of']}** · published: **{summary['published']}**",
        "",
        "## Datasets",
        "",
        "| dataset | rows read | rows valid | rows quarantined | unknown columns | text cells normalised |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, d in summary["datasets"].items():
        lines.append(
            f"| {name} | {d['read']} | {d['valid']} | {d['quarantined']} | "
            f"{d['unknown_columns']} | {d.get('normalised', 0)} |"
        )
    if summary.get("sources"):
        lines += [
            "",
            "## Sources",
            "",
            "| source | dataset | rows | mode | unknown fields ignored | warnings | quiet runs |",
            "|---|---|---:|---|---:|---:|---:|",
        ]
        for name, src in summary["sources"].items():
            mode = "incremental" if src["incremental"] else "snapshot"
            lines.append(
                f"| {name} | {src['dataset']} | {src['rows']} | {mode} | "
                f"{src['unknown_fields']} | {src['warnings']} | {src.get('quiet_runs', 0)} |"
            )
    lines += [
        "", "## Stages", "", "| stage | rows out | seconds | peak memory (MiB) |",
        "|---|---:|---:|---:|",
    ]  # fmt: skip
    for name, s in summary["stages"].items():
        peak = s.get("peak_mib")
        lines.append(
            f"| {name} | {s['rows']} | {s['seconds']:.2f} | {'' if peak is None else f'{peak:,.0f}'} |"
        )
    lines += _redone(summary)
    lines += ["", "## Queues", "", "| queue | items |", "|---|---:|"]
    for name, n in summary["queues"].items():
        lines.append(f"| {name} | {n} |")
    backtest = summary.get("last_backtest")
    if backtest:
        lines += [
            "",
            f"## Last backtest (as of {backtest[0]['as_of']})",
            "",
            "| list | capture top 50 | top 100 | top 10 % | AUC repeat buyers |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in backtest:
            auc = row["auc_repeat"]
            lines.append(
                f"| {row['list']} | {row['capture_50']:.3f} | {row['capture_100']:.3f} | "
                f"{row['capture_10%']:.3f} | {'–' if auc is None else f'{auc:.3f}'} |"
            )
    fit = summary.get("model")
    if fit:
        lines += [
            "",
            "## Value model",
            "",
            f"BG/NBD ({fit['bgnbd_method']}): r={fit['r']:.4g}, α={fit['alpha']:.4g}, "
            f"a={fit['a']:.4g}, b={fit['b']:.4g}, log-likelihood {fit['bgnbd_ll']:.1f} "
            f"on {fit['n_customers']} customers",
        ]
    return "\n".join(lines) + "\n"


def _redone(summary: dict) -> list[str]:
    """What the night worked out again and what it took from earlier nights (counts only)."""
    datasets = summary["datasets"].values()
    before = sum(d.get("validated_before", 0) for d in datasets)
    valid = sum(d.get("valid", 0) for d in datasets)
    lines = ["", "## What tonight redid", "", "| work | done tonight | kept from earlier nights |",
             "|---|---:|---:|", f"| rows validated | {valid - before} | {before} |"]  # fmt: skip
    vectors = summary.get("text_vectors")
    if vectors:
        lines.append(f"| texts encoded | {vectors['encoded']} | {vectors['stored_before']} |")
    linking = summary.get("record_linkage")
    if linking:
        lines += [
            f"| authors compared with every customer | {linking['authors_compared']} | "
            f"{linking['authors_kept']} |",
            f"| customers compared | {linking['customers_compared']} | |",
            "",
            "Record linkage model: "
            + (f"trained tonight ({linking['trained']})" if linking["trained"] else "stored"),
        ]
    return lines


RETENTION_ARTIFACT_COLUMNS = [
    "priority_rank",
    "case_id",
    "customer_id",
    "value_tier",
    "priority_score",
    "value_at_risk",
    "reason_codes",
    "owner",
    "due_date",
]
IDEATION_ARTIFACT_COLUMNS = [
    "priority_rank",
    "idea_key",
    "n_supporters",
    "customer_supporters",
    "stakeholder_supporters",
    "votes",
    "priority_score",
]


def top_rows(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    top = frame.head(TOP_N)[columns].copy()
    for col in top.columns:
        if top[col].dtype == object:
            top[col] = top[col].astype(str)
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        for row in top.to_dict("records")
    ]


@task(cache_policy=NO_CACHE)
def report_run(summary: dict, retention: pd.DataFrame, ideation: pd.DataFrame) -> None:
    """Create the run summary and top-20 table artifacts."""
    create_markdown_artifact(
        render_run_summary(summary),
        key="patronage-run-summary",
        description="Rows per stage, quarantine, queue sizes, timings",
    )
    create_table_artifact(
        top_rows(retention, RETENTION_ARTIFACT_COLUMNS),
        key="patronage-retention-top",
        description="Top 20 retention cases (ids only)",
    )
    create_table_artifact(
        top_rows(ideation, IDEATION_ARTIFACT_COLUMNS),
        key="patronage-ideation-top",
        description="Top 20 ideas (ids only)",
    )


def render_validation(outcomes: dict, breaches: list[str]) -> str:
    """Markdown for the validation artifact: expectation counts, quarantine, breaches. No row data."""
    lines = [
        "# Patronage validation",
        "",
        "| dataset | expectations passed | failed | rows quarantined | fixes released | fixes failing again |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    failures: list[str] = []
    for name, outcome in outcomes.items():
        results = outcome.validation.expectations
        passed = sum(r["success"] for r in results)
        lines.append(
            f"| {name} | {passed} | {len(results) - passed} | {len(outcome.quarantined)} | "
            f"{len(outcome.released_ids)} | {len(outcome.refailed)} |"
        )
        failures += [
            f"- `{name}`: `{r['expectation']}`"
            + (f" on `{r['column']}`" if r["column"] else "")
            + f" ({r['unexpected_count']} rows)"
            for r in results
            if not r["success"]
        ]
    if failures:
        lines += ["", "## Failed expectations", "", *failures]
    lines += ["", "## Contract breaches", ""]
    lines += [f"- {b}" for b in breaches] if breaches else ["None: the run may publish."]
    return "\n".join(lines) + "\n"


@task(cache_policy=NO_CACHE)
def report_validation(outcomes: dict, breaches: list[str], data_docs_dir: str | None) -> None:
    """The validation artifact (also for runs that fail their contracts), and Data Docs if asked."""
    create_markdown_artifact(
        render_validation(outcomes, breaches),
        key="patronage-validation",
        description="Expectations passed/failed and rows quarantined per dataset",
    )
    if data_docs_dir:
        from patronage.tasks.transforms.validation.validate_dataset import build_data_docs

        build_data_docs(data_docs_dir)


def emit_contract_breaches(outcomes: dict, breaches: dict[str, list[str]]) -> None:
    """One ``patronage.contract.breached`` event per breached dataset, for automations.

    The payload holds the breach in words (dataset, expectation, counts, example row ids),
    never row content. Prefect relates each event to the flow run that emitted it.
    """
    for dataset, lines in sorted(breaches.items()):
        outcome = outcomes.get(dataset)
        emit_event(
            CONTRACT_BREACHED_EVENT,
            resource={
                "prefect.resource.id": f"patronage.dataset.{dataset}",
                "prefect.resource.name": dataset,
            },
            payload={
                "breaches": lines,
                "rows_quarantined": 0 if outcome is None else len(outcome.quarantined),
            },
        )
