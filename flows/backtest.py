"""The backtest flow: rebuild the retention queue at past cut-offs and judge it on what followed.

Reads the sources in full, validates them once, then for each cut-off keeps only what was known
that day (``point_in_time``), builds the queue with the nightly's own tasks and compares its
order with recency, RFM, the value model's value at risk, random and the perfect list. Writes
files and artifacts only: no watermarks, quarantine, outbox or queue rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger
from prefect.states import Failed, State

from patronage.config import Policy, effective_policy
from patronage.config.locations import patronage_home
from patronage.flows.parameters import BacktestParameters
from patronage.schemas.contracts import CONTRACTS
from patronage.tasks.io.backtest_report import report_backtest, write_backtest_files
from patronage.tasks.io.extract_source import extract_source
from patronage.tasks.io.sources import resolve_sources
from patronage.tasks.stages.backtest_cutoff import judge_cutoff, rebuild_cutoff
from patronage.tasks.stages.extract_datasets import assemble_datasets
from patronage.tasks.stages.validate_export import validate_export
from patronage.tasks.transforms.backtest.policy_tuning import queue_capture, tune_policy

CAVEATS = [
    "CRM fields are the export's snapshot (account owner, contact details): they route cases and "
    "link identities but do not enter the ranking, so they cannot flatter it.",
    "Ticket status is the export's: tickets solved after the cut-off are counted open again, "
    "but a ticket reopened later looks solved — rotting tickets may be slightly undercounted.",
    "Identity links are learnt from the data up to the cut-off, with no stored links or "
    "manual overrides from later nights: linking can only be worse than the nightly's.",
    "Text models are today's (seed or company model): a company model trained on labels "
    "written after the cut-off may read that period's conversations better than the nightly did.",
]


class BacktestInputError(ValueError):
    """The cut-offs or horizon cannot be judged on this data."""


def _validated(raw: dict[str, pd.DataFrame], sources: str, as_of: date) -> dict:
    """Every dataset validated once (no reject limit, no freshness: the past is judged)."""
    valid: dict[str, pd.DataFrame] = {}
    breaches: list[str] = []
    for dataset in CONTRACTS:
        if dataset not in raw:
            raise BacktestInputError(f"{dataset}: no source feeds this dataset")
        refs = {
            name: set(valid[name][CONTRACTS[name].keys[0]])
            for name in ("customers", "tickets")
            if name in valid
        }
        outcome = validate_export(
            dataset,
            raw[dataset],
            sources,
            as_of,
            refs,
            max_reject_share=1.0,
            check_freshness=False,
            return_state=True,
        ).result(raise_on_failure=False)
        breaches += outcome.validation.breaches
        valid[dataset] = outcome.validation.valid
    if breaches:
        raise BacktestInputError("contract breach:\n" + "\n".join(breaches))
    return valid


def last_recorded_day(valid: dict[str, pd.DataFrame]) -> date | None:
    """The newest event in any dataset: how far the exports reach (a quiet last day of orders
    does not end the data)."""
    newest = [
        frame[CONTRACTS[name].timestamp_column].max()
        for name, frame in valid.items()
        if CONTRACTS[name].timestamp_column and len(frame)
    ]
    newest = [t for t in newest if pd.notna(t)]
    return max(newest).date() if newest else None


def check_cutoffs(valid: dict[str, pd.DataFrame], cutoffs: list[date], horizon_days: int) -> date:
    """The last recorded day; a clear error when a cut-off or horizon cannot be judged."""
    orders = valid["orders"]
    if orders.empty:
        raise BacktestInputError("orders: no valid orders, nothing to backtest")
    first = orders["ordered_at"].min().date()
    last = last_recorded_day(valid)
    if cutoffs[0] < first:
        raise BacktestInputError(
            f"cut-off {cutoffs[0]} is before any data (the first order is on {first})"
        )
    end = cutoffs[-1] + timedelta(days=horizon_days)
    if end > last:
        raise BacktestInputError(
            f"horizon past the last data: cut-off {cutoffs[-1]} + {horizon_days} days = {end}, "
            f"but the data end on {last}; choose a cut-off on or before "
            f"{last - timedelta(days=horizon_days)}"
        )
    return last


@flow(name="patronage-backtest", log_prints=False)
def backtest(
    params: BacktestParameters = BacktestParameters(),  # noqa: B008 - renders as the UI form
    policy: Policy = Policy(),  # noqa: B008
) -> dict | State:
    """Rebuild the retention queue at past cut-offs and report how much value it would have caught.

    Input it cannot judge (a cut-off before any data, a horizon past the last data, a policy
    file that does not parse) ends the run Failed with that message, without a traceback.
    """
    try:
        return _backtest(params, policy)
    except BacktestInputError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))


def _backtest(params: BacktestParameters, policy_parameter: Policy) -> dict:
    logger = get_run_logger()
    sources = resolve_sources(params.sources, params.sources_file, params.data_location)
    extractions = [f.result() for f in [extract_source.submit(s, {}, True) for s in sources]]
    raw = assemble_datasets(extractions, {})
    # Validated as of today: nothing is "from the future" yet; staleness is no concern here.
    valid = _validated(raw, ",".join(e.source for e in extractions), datetime.now(UTC).date())
    data_end = last_recorded_day(valid)
    if data_end is None:
        raise BacktestInputError("no dataset holds any dated row: nothing to backtest")
    cutoffs = params.cutoffs(data_end)
    check_cutoffs(valid, cutoffs, params.horizon_days)
    try:
        full_policy = effective_policy(policy_parameter, params.policy_file)
    except ValueError as exc:
        raise BacktestInputError(str(exc)) from None

    frames = [
        rebuild_cutoff(
            valid,
            cutoff,
            params.horizon_days,
            params.value_model,
            full_policy,
            params.identity,
            params.text,
        )
        for cutoff in cutoffs
    ]
    latest = frames[-1]
    notes = []
    if not latest.outcomes["repeat_buyer"].any():
        notes.append(
            f"No customer had a repeat purchase by {latest.as_of}: AUC among repeat buyers is "
            "undefined, and P(stop) rests on each customer's first purchase and the company's "
            "overall rhythm only."
        )
    for note in notes:
        logger.warning("%s", note)
    policy = full_policy.retention
    judged = [judge_cutoff(f, policy) for f in frames]  # each cut-off judged once
    result = {"horizon_days": params.horizon_days, **judged[-1]}
    result["notes"] = notes
    result["policy"] = policy.model_dump()
    result["caveats"] = CAVEATS
    result["cutoffs"] = [
        {k: v for k, v in j.items() if k in ("as_of", "customers", "capture", "auc")}
        for j in judged
    ]
    out_dir = (
        Path(params.out_dir)
        if params.out_dir
        else patronage_home() / "backtests" / latest.as_of.isoformat()
    )

    if params.tune:
        in_sample = frames[:-1] or frames
        tuned, in_capture = tune_policy(in_sample, policy)
        policy_file = Path(params.policy_out) if params.policy_out else out_dir / "policy.json"
        tuned = tuned.model_copy(
            update={
                "fitted_on": f"backtest of {len(in_sample)} cut-off(s) "
                f"{in_sample[0].as_of}..{in_sample[-1].as_of}, horizon {params.horizon_days} days"
            }
        )
        policy_file.parent.mkdir(parents=True, exist_ok=True)
        # The whole policy in force with the tuned ranking: usable as the nightly's policy_file.
        policy_file.write_text(
            full_policy.model_copy(update={"retention": tuned}).model_dump_json(indent=2) + "\n",
            encoding="utf-8",
        )
        result["tuning"] = {
            "in_sample": in_capture,
            "in_sample_cutoffs": len(in_sample),
            "out_of_sample": queue_capture([latest], tuned),
            "out_of_sample_before": queue_capture([latest], policy),
            "out_of_sample_cutoff": latest.as_of.isoformat()
            + (" (the same cut-off: give --rolling 2 or more)" if len(frames) == 1 else ""),
            "policy_file": str(policy_file),
            "policy": tuned.model_dump(),
        }
    files = write_backtest_files(result, out_dir)
    report_backtest(result, files)
    logger.info(
        "Backtest as of %s: %d customers, queue capture at 10%% %.3f (value at risk %.3f, perfect %.3f)",
        latest.as_of,
        result["customers"],
        result["capture"]["queue"]["10%"],
        result["capture"]["clv_x_risk"]["10%"],
        result["capture"]["perfect"]["10%"],
    )
    result["files"] = [str(f) for f in files]
    return result
