"""Extract stage: read every source, drop erased people's rows, one raw frame per dataset."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from patronage.resources.database import PatronageDatabase
from patronage.schemas.contracts import CONTRACTS
from patronage.tasks.io.extract_source import extract_source
from patronage.tasks.io.source_progress import merge_incremental, read_source_progress
from patronage.tasks.io.sources import Extraction, SourceConfig
from patronage.tasks.stages.drop_erased_people import drop_erased_people, read_suppressions


@dataclass(repr=False)
class Extracted:
    """What the sources brought tonight.

    Attributes:
        extractions: One per source, with its new cursor or watermark in ``state``.
        raw: One raw frame per dataset (incremental rows merged into the stored ones).
        erased_rows_dropped: Rows dropped per dataset because their person was erased.
        learned_suppressions: Erasure HMACs learnt tonight, stored after publishing.
    """

    extractions: list[Extraction]
    raw: dict[str, pd.DataFrame]
    erased_rows_dropped: dict[str, int] = field(default_factory=dict)
    learned_suppressions: set[str] = field(default_factory=set)

    @property
    def rows(self) -> int:
        return sum(len(e.frame) for e in self.extractions)

    def sources_of(self, dataset: str) -> str:
        """The names of the sources feeding ``dataset``, comma-separated."""
        return ",".join(e.source for e in self.extractions if e.dataset == dataset)

    def __repr__(self) -> str:
        return f"Extracted({len(self.extractions)} sources, {self.rows} rows)"


def assemble_datasets(
    extractions: list[Extraction], stored: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """One raw frame per dataset: snapshots as read, incremental rows merged into stored ones."""
    raw: dict[str, pd.DataFrame] = {}
    for dataset in CONTRACTS:
        mine = [e for e in extractions if e.dataset == dataset]
        if not mine:
            continue
        frames = [e.frame for e in mine if not e.incremental]
        incremental = [e.frame for e in mine if e.incremental]
        if incremental:
            frames.append(
                merge_incremental(
                    stored.get(dataset), pd.concat(incremental, ignore_index=True), dataset
                )
            )
        raw[dataset] = (
            pd.concat(frames, ignore_index=True).fillna("") if len(frames) > 1 else frames[0]
        )
    return raw


def extract_datasets(
    sources: list[SourceConfig],
    database: PatronageDatabase,
    full_refresh: bool,
    privacy_key_secret: str | None,
    phone_region: str,
) -> Extracted:
    """Read every source in parallel from its stored cursor, drop erased people's rows before
    anything about them is validated or stored, and assemble one raw frame per dataset."""
    states, stored = read_source_progress(
        database, sorted({s.dataset for s in sources if s.is_incremental})
    )
    futures = [
        extract_source.submit(source, states.get(source.name, {}), full_refresh)
        for source in sources
    ]
    extractions = [f.result() for f in futures]
    dropped, learned = drop_erased_people(
        extractions, read_suppressions(database), privacy_key_secret, phone_region
    )
    for extraction in extractions:
        if extraction.incremental:
            before = states.get(extraction.source, {})
            extraction.last_rows_at = before.get("last_rows_at")
            extraction.quiet_runs = (
                0 if len(extraction.frame) else int(before.get("quiet_runs") or 0) + 1
            )
    return Extracted(extractions, assemble_datasets(extractions, stored), dropped, learned)
