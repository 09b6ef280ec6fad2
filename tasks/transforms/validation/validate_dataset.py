"""Validate a staged dataset against its contract with Great Expectations.

Row-level failures are quarantined (kept aside with their reasons), not dropped; a contract
breach (missing column, no rows, too many rejects, stale data) is reported so the run can stop
before publishing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd

from patronage.schemas.contract import DatasetContract
from patronage.tasks.transforms.membership import is_in
from patronage.tasks.transforms.validation.stage_dataset import StagedDataset

FUTURE_TOLERANCE = pd.Timedelta(days=1)
# Raise when what makes a row valid changes in this module: rows validated before under
# another logic are validated again.
VALIDATION_LOGIC = 1


@dataclass(repr=False)
class DatasetValidation:
    """What validating one dataset found.

    Attributes:
        dataset: Contract name.
        valid: Rows that passed every row-level expectation.
        rejected: One row per rejected input row: ``row_index``, ``row_key``, ``reasons``.
        expectations: One dict per expectation: ``expectation``, ``column``, ``success``,
            ``unexpected_count``.
        breaches: Contract breaches in words; non-empty means the run must not publish.
        unknown_columns: Raw columns the contract ignores.
        normalised_cells: Text cells changed so any database can store them (NUL removed).
        validated_before: Rows that passed on an earlier night, unchanged, not run through
            the row-level expectations again.
    """

    dataset: str
    valid: pd.DataFrame
    rejected: pd.DataFrame
    expectations: list[dict] = field(default_factory=list)
    breaches: list[str] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    normalised_cells: int = 0
    validated_before: int = 0

    def __repr__(self) -> str:
        # Prefect logs a failed task's state with its result's repr: counts, never rows.
        return (
            f"DatasetValidation({self.dataset}: {len(self.valid)} valid, "
            f"{len(self.rejected)} rejected, {len(self.breaches)} breach(es))"
        )


@lru_cache(maxsize=1)
def _gx_context():
    """One in-memory Great Expectations context per process, progress bars off."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    # Great Expectations fingerprints each in-memory batch under 1 GB by hashing every row, a
    # batch marker Patronage never reads: it was 40 % of validating a million orders.
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0
    return context, context.data_sources.add_pandas("patronage")


def _run_suite(name: str, frame: pd.DataFrame, suite):
    """Validate ``frame`` through a stored validation definition, so Data Docs can show it."""
    import great_expectations as gx

    context, datasource = _gx_context()
    try:
        asset = datasource.get_asset(name)
    except LookupError:
        asset = datasource.add_dataframe_asset(name)
        asset.add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add_or_update(suite)
    definition_name = f"patronage.{name}"
    with contextlib.suppress(Exception):  # not there yet: GX raises its own not-found errors
        context.validation_definitions.delete(definition_name)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(
            name=definition_name, data=asset.get_batch_definition("whole"), suite=suite
        )
    )
    # COMPLETE lists every failing row's index (what quarantine needs); the pandas query
    # string that would select them again is left out: it filtered the whole frame once more
    # per expectation (a third of the suite's time on a million orders).
    return definition.run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False},
    )


def build_data_docs(directory: str) -> str:
    """Write a Data Docs site of this process's suites and validation results into ``directory``.

    Returns:
        The path of the site's ``index.html``.
    """
    context, _ = _gx_context()
    site = "patronage"
    if site not in {
        s.get("site_name", s) if isinstance(s, dict) else s for s in context.list_data_docs_sites()
    }:
        context.add_data_docs_site(
            site,
            {
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": directory,
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    context.build_data_docs(site_names=[site])
    return os.path.join(directory, "index.html")


def validation_version(contract: DatasetContract) -> str:
    """What a row's validity depends on besides its content and the run date: the contract
    (columns, types, keys, references, expectations) and this module's logic. Rows validated
    under another version are validated again."""
    import hashlib
    import json

    _gx_context()  # expectations need an active context before they are built
    described = {
        "logic": VALIDATION_LOGIC,
        "future_tolerance": str(FUTURE_TOLERANCE),
        "name": contract.name,
        "keys": list(contract.keys),
        "columns": contract.columns,
        "required": list(contract.required),
        "optional": list(contract.optional),
        "references": {c: list(r) for c, r in contract.references.items()},
        "timestamp_column": contract.timestamp_column,
        "expectations": [
            [type(e).__name__, e.configuration.kwargs] for e in contract.build_expectations()
        ],
    }
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def rows_to_check(
    frame: pd.DataFrame, contract: DatasetContract, known_valid: np.ndarray
) -> pd.Series:
    """Rows the row-level expectations must see: all but those known valid, and every row
    sharing a key with one of them, so that a new row repeating an old row's key fails the
    uniqueness expectation as it would among all rows (both rows are rejected)."""
    check = pd.Series(~known_valid, index=frame.index)
    for key in contract.keys:
        if key in frame.columns and check.any():
            check |= is_in(frame[key], frame.loc[check, key].dropna())
    return check


def _keys_of(frame: pd.DataFrame, contract: DatasetContract, index: list) -> list[str]:
    """The key of each row in ``index`` as text ("" where the dataset has no key columns)."""
    if not index or not all(k in frame.columns for k in contract.keys):
        return [""] * len(index)
    return contract.row_keys(frame.loc[index]).tolist()


def _orphaned(
    values: pd.Series, distinct: tuple[np.ndarray, pd.Index] | None, known: Collection[str]
) -> np.ndarray:
    """Per row, whether its value is present and not among ``known``. With the column's codes
    and distinct values from staging, each distinct value is looked up once (7.4 M orders
    name a million customers; one lookup per order took 0.6 s a million rows)."""
    if distinct is None:
        return (values.notna() & ~is_in(values, known)).to_numpy()
    codes, uniques = distinct
    unknown = ~np.asarray(is_in(uniques, known), dtype=bool)
    return np.append(unknown, False)[codes]  # code -1 (missing) → not an orphan


def _check(name: str, column: str | None, success: bool, unexpected: int) -> dict:
    return {
        "expectation": name,
        "column": column,
        "success": bool(success),
        "unexpected_count": int(unexpected),
    }


def validate_dataset(
    staged: StagedDataset,
    contract: DatasetContract,
    as_of: date,
    reference_keys: dict[str, Collection[str]] | None = None,
    max_reject_share: float | None = None,
    check_freshness: bool = True,
    known_valid: np.ndarray | None = None,
) -> DatasetValidation:
    """Run the contract's suite, quarantine failing rows and list breaches.

    Args:
        staged: Output of ``stage_dataset``.
        contract: The dataset's contract.
        as_of: Run date: timestamps after it (beyond a day's tolerance) are rejected, and
            freshness is measured to it.
        reference_keys: Valid keys of referenced datasets, e.g. ``{"customers": Index([...])}``
            (any collection of text; an Arrow-backed Index is looked up fastest).
        max_reject_share: Overrides the contract's reject threshold.
        check_freshness: Whether stale data is a breach (not for a backtest of the past).
        known_valid: Per row, whether it passed unchanged on an earlier night under the same
            ``validation_version`` with an ``as_of`` no later than this one. Row-level
            expectations skip those rows (``rows_to_check``); references, the reject share and
            freshness count every row, so the outcome equals validating all rows.
    """
    import great_expectations as gx

    frame = staged.frame
    threshold = contract.max_reject_share if max_reject_share is None else max_reject_share
    reasons: dict[object, list[str]] = {
        idx: [f"cast:{c}" for c in cols] for idx, cols in staged.cast_errors.items()
    }
    for idx, cols in staged.unreadable.items():
        reasons.setdefault(idx, []).extend(f"not_utf8:{c}" for c in cols)
    breaches: list[str] = []
    results: list[dict] = []
    validated_before = 0
    # Dataset-level checks are counted with the expectations, so a breach is never "0 failed".
    if staged.missing_columns:
        breaches.append(f"{contract.name}: missing column(s) {', '.join(staged.missing_columns)}")
        results.append(_check("columns_present", None, False, 0))
    if len(frame) == 0:
        breaches.append(f"{contract.name}: no rows")
        results.append(_check("has_rows", None, False, 0))
    if not breaches:
        _gx_context()  # suites need an active context before they are built
        suite = contract.build_suite()
        if contract.timestamp_column:
            latest = pd.Timestamp(as_of) + pd.Timedelta(days=1) + FUTURE_TOLERANCE
            suite.add_expectation(
                gx.expectations.ExpectColumnValuesToBeBetween(
                    column=contract.timestamp_column, max_value=latest.to_pydatetime()
                )
            )
        checked = frame
        if known_valid is not None:
            checked = frame[rows_to_check(frame, contract, known_valid).to_numpy()]
            validated_before = len(frame) - len(checked)
        # With every row validated before, Great Expectations has nothing to see; its
        # expectations are reported as met, as they were.
        outcome_results = _run_suite(contract.name, checked, suite).results if len(checked) else []
        if not len(checked):
            results.extend(
                _check(e.expectation_type, getattr(e, "column", None), True, 0)
                for e in suite.expectations
            )
        for res in outcome_results:
            cfg = res.expectation_config
            column = cfg.kwargs.get("column")
            failed_rows = res.result.get("unexpected_index_list") or []
            results.append(
                {
                    "expectation": cfg.type,
                    "column": column,
                    "success": bool(res.success),
                    "unexpected_count": len(failed_rows),
                }
            )
            if res.success:
                continue
            if failed_rows:
                for idx in failed_rows:
                    reasons.setdefault(idx, []).append(f"{cfg.type}:{column}")
            else:
                breaches.append(
                    f"{contract.name}: {cfg.type}" + (f" on {column}" if column else "") + " failed"
                )
        for column, (ref_dataset, _ref_column) in contract.references.items():
            known = (reference_keys or {}).get(ref_dataset)
            if known is None:
                continue
            orphans = frame.index[_orphaned(frame[column], staged.distinct.get(column), known)]
            for idx in orphans:
                reasons.setdefault(idx, []).append(f"references:{ref_dataset}.{column}")
            results.append(
                {
                    "expectation": f"references_{ref_dataset}",
                    "column": column,
                    "success": len(orphans) == 0,
                    "unexpected_count": len(orphans),
                }
            )
    is_rejected = frame.index.isin(list(reasons))
    rejected_idx = frame.index[is_rejected].tolist()
    rejected = pd.DataFrame(
        {
            "row_index": rejected_idx,
            "row_key": _keys_of(frame, contract, rejected_idx),
            "reasons": [sorted(set(reasons[idx])) for idx in rejected_idx],
        }
    )
    valid = frame[~is_rejected]
    if len(frame) and not breaches:
        share = len(rejected_idx) / len(frame)
        results.append(
            _check("reject_share_at_most_threshold", None, share <= threshold, len(rejected_idx))
        )
        if share > threshold:
            examples = ", ".join(rejected["row_key"].head(5).replace("", "(no key)"))
            top = pd.Series([r for rs in rejected["reasons"] for r in rs]).value_counts().index[0]
            breaches.append(
                f"{contract.name}: {share:.1%} of rows rejected (threshold {threshold:.0%}); "
                f"most common failure {top}; example row ids: {examples}"
            )
        if (
            check_freshness
            and contract.freshness_days is not None
            and contract.timestamp_column
            and len(valid)
        ):
            newest = valid[contract.timestamp_column].max()
            age = (pd.Timestamp(as_of) - newest.normalize()).days
            results.append(
                _check("freshness", contract.timestamp_column, age <= contract.freshness_days, 0)
            )
            if age > contract.freshness_days:
                breaches.append(
                    f"{contract.name}: newest {contract.timestamp_column} is {age} days "
                    f"old at {as_of} (freshness limit {contract.freshness_days} days)"
                )
    return DatasetValidation(
        contract.name,
        valid,
        rejected,
        results,
        breaches,
        staged.unknown_columns,
        staged.normalised_cells,
        validated_before,
    )
