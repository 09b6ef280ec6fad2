"""Validate stage: every dataset against its contract, in dependency order; a breach stops the
run before anything is published."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

import numpy as np
import pandas as pd
from prefect.futures import as_completed

from patronage.resources.database import PatronageDatabase
from patronage.schemas.contracts import CONTRACTS
from patronage.tasks.io.publish_queues import record_quarantine
from patronage.tasks.io.quarantine_fixes import read_quarantine_fixes
from patronage.tasks.io.report_run import emit_contract_breaches, report_validation
from patronage.tasks.io.sources.base import settled_watermark, stuck_source
from patronage.tasks.io.validated_rows import read_validated_rows
from patronage.tasks.stages.extract_datasets import Extracted
from patronage.tasks.stages.validate_export import ExportValidation, validate_export
from patronage.tasks.transforms.membership import is_in
from patronage.tasks.transforms.validation.row_fingerprint import hash_version
from patronage.tasks.transforms.validation.validate_dataset import validation_version

T = TypeVar("T")


class ContractBreachError(RuntimeError):
    """A dataset broke its contract; nothing was published."""


@dataclass(repr=False)
class Validated:
    """What passed the contracts, and what did not.

    Attributes:
        valid: One frame of valid, typed rows per dataset.
        outcomes: Each dataset's validation and quarantine outcome.
        breaches: Breach lines per dataset (empty when the run may publish).
        versions: Each dataset's ``validation_version`` tonight.
    """

    valid: dict[str, pd.DataFrame]
    outcomes: dict[str, ExportValidation]
    breaches: dict[str, list[str]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(len(f) for f in self.valid.values())

    @property
    def quarantined(self) -> pd.DataFrame:
        return pd.concat([o.quarantined for o in self.outcomes.values()], ignore_index=True)

    @property
    def released_ids(self) -> list[int]:
        return sorted(i for o in self.outcomes.values() for i in o.released_ids)

    @property
    def refailed(self) -> pd.DataFrame:
        return pd.concat([o.refailed for o in self.outcomes.values()], ignore_index=True)

    @property
    def valid_hashes(self) -> dict[str, np.ndarray]:
        """Per dataset, the content hashes of tonight's valid rows (for the next night)."""
        return {d: o.valid_hashes for d, o in self.outcomes.items()}

    @property
    def breach_lines(self) -> list[str]:
        return [line for lines in self.breaches.values() for line in lines]

    def counts(self, read: dict[str, int]) -> dict[str, dict[str, int]]:
        """Rows read (``read``, per dataset), valid, quarantined, released and normalised per
        dataset (ids-free)."""
        return {
            name: {
                "read": read[name],
                "valid": len(o.validation.valid),
                "quarantined": len(o.quarantined),
                "released": len(o.released_ids),
                "unknown_columns": len(o.validation.unknown_columns),
                "normalised": o.validation.normalised_cells,
                "validated_before": o.validation.validated_before,
            }
            for name, o in self.outcomes.items()
        }

    def __repr__(self) -> str:
        return f"Validated({self.rows} valid rows, {len(self.breaches)} dataset(s) breached)"


@dataclass(repr=False)
class WhenValid(Generic[T]):
    """Work that reads some datasets' valid rows, started as soon as those are validated,
    while the night's other datasets still are (the orders take longest): the night's new text
    is encoded meanwhile, for instance. Not started when one of them breached its contract.

    Attributes:
        datasets: The datasets ``start`` reads.
        start: Called once with those datasets' valid rows; its result is kept.
    """

    datasets: tuple[str, ...]
    start: Callable[[dict[str, pd.DataFrame]], T]
    _started: list[T] = field(default_factory=list)  # its result once started (None counts)

    def offer(self, valid: dict[str, pd.DataFrame], breaches: dict[str, list[str]]) -> None:
        """Start, if every dataset is valid and none breached, and not started yet."""
        if all(d in valid and d not in breaches for d in self.datasets):
            self.result(valid)

    def result(self, valid: dict[str, pd.DataFrame]) -> T:
        """What ``start`` returned, started now if it was not (``valid``: the night's rows)."""
        if not self._started:
            self._started.append(self.start({d: valid[d] for d in self.datasets}))
        return self._started[0]


def validation_waves() -> list[list[str]]:
    """The datasets in waves: each wave references only datasets of earlier waves."""
    waves: list[list[str]] = []
    placed: set[str] = set()
    pending = list(CONTRACTS)
    while pending:
        wave = [
            d for d in pending if all(ref in placed for ref, _ in CONTRACTS[d].references.values())
        ]
        if not wave:
            raise ValueError(f"contracts reference each other in a cycle: {', '.join(pending)}")
        waves.append(wave)
        placed |= set(wave)
        pending = [d for d in pending if d not in placed]
    return waves


def validate_datasets(
    extracted: Extracted,
    as_of: date,
    database: PatronageDatabase,
    thresholds: dict[str, float],
    max_quiet_runs: int,
    data_docs_dir: str | None,
    reuse: bool = True,
    when_valid: Sequence[WhenValid] = (),
) -> Validated:
    """Validate each dataset (references first), flag stuck incremental sources, write the
    validation artifact. A breached dataset's task ends Failed; its rows still reach quarantine.

    Args:
        extracted: The night's raw datasets.
        as_of: The run's cut-off (no row may come from after it).
        database: Where operators' quarantine fixes are read from.
        thresholds: Share of each dataset's rows that may be quarantined.
        max_quiet_runs: Quiet runs after which an incremental source counts as stuck.
        data_docs_dir: Folder for a Great Expectations Data Docs site, if any.
        reuse: Let rows that passed on the last published night and arrive unchanged skip
            the row-level expectations (off for a full refresh: everything is validated).
        when_valid: Work each to start, in this process, as soon as the datasets it reads
            are valid (``WhenValid``), while the others are still being validated.
    """
    fixes = read_quarantine_fixes(database)
    versions = {name: validation_version(contract) for name, contract in CONTRACTS.items()}
    before = read_validated_rows(database, versions, hash_version(), as_of) if reuse else {}
    valid: dict[str, pd.DataFrame] = {}
    outcomes: dict[str, ExportValidation] = {}
    breaches: dict[str, list[str]] = {}
    for wave in validation_waves():
        # Datasets of one wave run at once on the flow's task runner (threads, or Dask
        # workers); a wave's references were validated by the waves before it.
        futures = {}
        for dataset in wave:
            if dataset not in extracted.raw:
                breaches[dataset] = [f"{dataset}: no source feeds this dataset"]
                continue
            # Keys as an Arrow-backed Index, not a Python set: Prefect walks every list, set
            # and dict in a task's parameters (twice) looking for futures, which took 34 s of
            # a million customers' night over their ids; it leaves pandas objects alone.
            refs = {
                name: pd.Index(valid[name][column].dropna().unique())
                for name, column in CONTRACTS[dataset].references.values()
                if name in valid
            }
            futures[dataset] = validate_export.submit(
                dataset,
                extracted.raw[dataset],
                extracted.sources_of(dataset),
                as_of,
                refs,
                thresholds[dataset],
                fixes[fixes["dataset"] == dataset],
                validated_before=before.get(dataset),
            )
        dataset_of = {id(future): dataset for dataset, future in futures.items()}
        # As each finishes: work waiting on some datasets starts while the rest are validated.
        for future in as_completed(list(futures.values())):
            dataset = dataset_of[id(future)]
            future.wait()  # brings the future's state up to date
            outcome = future.state.result(raise_on_failure=False)
            if isinstance(outcome, BaseException):
                raise outcome
            outcomes[dataset] = outcome
            valid[dataset] = outcome.validation.valid
            if outcome.validation.breaches:
                breaches[dataset] = outcome.validation.breaches
            for waiting in when_valid:
                waiting.offer(valid, breaches)
    # Reports list datasets in the contracts' order, whichever wave finished first.
    outcomes = {d: outcomes[d] for d in CONTRACTS if d in outcomes}
    valid = {d: valid[d] for d in CONTRACTS if d in valid}
    breaches = {d: breaches[d] for d in CONTRACTS if d in breaches}
    for extraction in extracted.extractions:
        stuck = stuck_source(extraction, max_quiet_runs)
        if stuck:
            breaches.setdefault(extraction.dataset, []).append(stuck)
    validated = Validated(valid, outcomes, breaches, versions)
    report_validation(outcomes, validated.breach_lines, data_docs_dir)
    return validated


def stop_on_breach(
    validated: Validated, database: PatronageDatabase, run_id: str, dry_run: bool
) -> None:
    """Raise ``ContractBreachError`` (nothing published) when a contract was breached; the
    rejected rows are kept in quarantine first and one event per breached dataset is emitted."""
    if not validated.breaches:
        return
    if not dry_run:
        record_quarantine(database, run_id, validated.quarantined, validated.refailed)
    emit_contract_breaches(validated.outcomes, validated.breaches)
    raise ContractBreachError(
        "contract breach, nothing published:\n" + "\n".join(validated.breach_lines)
    )


def settle_watermarks(extracted: Extracted, validated: Validated) -> None:
    """Advance incremental watermarks over rows that passed validation only: a quarantined
    future date must not freeze a source."""
    for extraction in extracted.extractions:
        if extraction.incremental and "watermark" in extraction.state:
            rejected = set(validated.outcomes[extraction.dataset].validation.rejected["row_key"])
            keys = CONTRACTS[extraction.dataset].row_keys(extraction.frame)
            extraction.state["watermark"] = settled_watermark(extraction, is_in(keys, rejected))
