"""Stage and validate one raw export against its contract (a Prefect task per dataset)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed, State

from patronage.schemas.contracts import CONTRACTS
from patronage.tasks.transforms.membership import is_in
from patronage.tasks.transforms.validation.row_fingerprint import (
    hash_set,
    row_fingerprint,
    row_hashes,
    seen_before,
)
from patronage.tasks.transforms.validation.stage_dataset import stage_dataset
from patronage.tasks.transforms.validation.storable_text import storable_record
from patronage.tasks.transforms.validation.validate_dataset import (
    DatasetValidation,
    validate_dataset,
)


@dataclass(repr=False)
class ExportValidation:
    """A dataset's validation plus what it means for quarantine.

    Attributes:
        validation: What the contract found.
        quarantined: Newly rejected rows as they arrived: ``dataset``, ``source``, ``row_key``,
            ``reasons``, ``raw_row``.
        released_ids: Quarantine entries whose operator fix passed this time.
        refailed: Quarantine entries whose fix failed again: ``quarantine_id``, ``reasons``.
        valid_hashes: ``row_hashes`` of the rows that passed (sorted, distinct), which the
            next night need not validate again while they arrive unchanged.
    """

    validation: DatasetValidation
    quarantined: pd.DataFrame
    released_ids: list[int] = field(default_factory=list)
    refailed: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["quarantine_id", "reasons"])
    )
    valid_hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))

    def __repr__(self) -> str:
        # A Failed state carrying this is logged with its repr: ids and counts, never rows.
        return (
            f"ExportValidation({self.validation!r}, {len(self.quarantined)} quarantined, "
            f"{len(self.released_ids)} released, {len(self.refailed)} refailed)"
        )


def apply_fixes(
    raw: pd.DataFrame, fixes: pd.DataFrame, dataset: str
) -> tuple[pd.DataFrame, dict[object, int]]:
    """Swap raw rows that were quarantined for their operator-fixed versions.

    A fix applies while the source still sends the very row that was quarantined (same
    fingerprint); once the source sends something else for that key, the source wins.

    Returns:
        ``(frame, row index → quarantine id)`` for the rows that were swapped.
    """
    if fixes.empty or raw.empty:
        return raw, {}
    by_print = {
        f: (int(q), row)
        for f, q, row in zip(
            fixes["row_fingerprint"], fixes["quarantine_id"], fixes["row"], strict=True
        )
    }
    contract = CONTRACTS[dataset]
    fix_keys = set(
        contract.row_keys(pd.DataFrame(list(fixes["row"])).reindex(columns=list(contract.keys)))
    )
    candidates = raw.index[is_in(contract.row_keys(raw), fix_keys)]
    frame = raw.copy()
    fixed_at: dict[object, int] = {}
    for idx in candidates:
        hit = by_print.get(row_fingerprint(raw.loc[idx].to_dict()))
        if hit is not None:
            quarantine_id, row = hit
            frame.loc[idx, list(row)] = list(row.values())
            fixed_at[idx] = quarantine_id
    return frame, fixed_at


def quarantined_rows(
    raw: pd.DataFrame, rejected: pd.DataFrame, dataset: str, source: str
) -> pd.DataFrame:
    """The rejected rows as they arrived, with their reasons: what goes to quarantine."""
    return pd.DataFrame(
        {
            "dataset": dataset,
            "source": source,
            "row_key": rejected["row_key"].to_numpy(),
            "reasons": rejected["reasons"].to_numpy(),
            "raw_row": [storable_record(raw.loc[idx].to_dict()) for idx in rejected["row_index"]],
        },
        columns=["dataset", "source", "row_key", "reasons", "raw_row"],
    )


@task(cache_policy=NO_CACHE, task_run_name="validate-{dataset}")
def validate_export(
    dataset: str,
    raw: pd.DataFrame,
    source: str,
    as_of: date,
    reference_keys: dict[str, pd.Index],
    max_reject_share: float,
    fixes: pd.DataFrame | None = None,
    check_freshness: bool = True,
    validated_before: np.ndarray | None = None,
) -> ExportValidation | State:
    """Cast and validate ``raw`` (with operator fixes applied) against the dataset's contract.

    A dataset that breaches its contract ends this task Failed, the breach as the state's
    message, so the Prefect UI shows which dataset stopped the run; the state still carries
    the ``ExportValidation`` (``state.result(raise_on_failure=False)``), whose rejected rows
    must reach quarantine all the same. ``check_freshness=False`` (a backtest of the past)
    does not count stale data as a breach. ``validated_before`` are the ``row_hashes`` of
    rows that passed on an earlier night (same contract version, no later ``as_of``): those
    rows skip the row-level expectations, with the same outcome.
    """
    contract = CONTRACTS[dataset]
    frame, fixed_at = apply_fixes(raw, fixes if fixes is not None else pd.DataFrame(), dataset)
    hashes = row_hashes(frame)
    known = None if validated_before is None else seen_before(hashes, validated_before)
    validation = validate_dataset(
        stage_dataset(frame, contract),
        contract,
        as_of,
        reference_keys,
        max_reject_share,
        check_freshness,
        known,
    )
    rejected = validation.rejected
    passed = ~frame.index.isin(rejected["row_index"])
    is_fix = rejected["row_index"].isin(list(fixed_at))
    refailed = pd.DataFrame(
        {
            "quarantine_id": [fixed_at[i] for i in rejected.loc[is_fix, "row_index"]],
            "reasons": list(rejected.loc[is_fix, "reasons"]),
        },
        columns=["quarantine_id", "reasons"],
    )
    released = sorted(set(fixed_at.values()) - set(refailed["quarantine_id"]))
    # The quarantine keeps the row as it arrived, not the fix that replaced it.
    quarantined = quarantined_rows(raw, rejected[~is_fix], dataset, source)
    get_run_logger().info(
        "%s: %d rows valid (%d unchanged since validated), %d quarantined, %d fix(es) "
        "released, %d breach(es)",
        dataset,
        len(validation.valid),
        validation.validated_before,
        len(quarantined),
        len(released),
        len(validation.breaches),
    )
    outcome = ExportValidation(
        validation, quarantined, released, refailed, hash_set(hashes[passed])
    )
    if validation.breaches:
        return Failed(message="; ".join(validation.breaches), data=outcome)
    return outcome
