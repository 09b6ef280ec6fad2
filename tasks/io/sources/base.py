"""What every source is: a typed config that knows its dataset, mapping and incremental state."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from schemas.contracts import CONTRACTS

DatasetName = str


class SourceError(RuntimeError):
    """A source could not be read. The message names the source and endpoint, never a secret."""


@dataclass
class Extraction:
    """What one source delivered in one run.

    Attributes:
        source: Source name (the key of its incremental state).
        dataset: Staging dataset the rows feed.
        frame: One row per record, every cell text, staging column names.
        state: Incremental state to store when the run publishes (``cursor`` / ``watermark``).
        incremental: Whether ``frame`` holds only what changed (merge with stored rows) rather
            than a full snapshot.
        unknown_fields: Fields seen that no mapping reads, with counts (ignored).
        warnings: Things an operator should know (e.g. a watermark in the future).
    """

    source: str
    dataset: DatasetName
    frame: pd.DataFrame
    state: dict[str, str | None] = field(default_factory=dict)
    incremental: bool = False
    unknown_fields: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)


class SourceConfig(BaseModel):
    """Fields every source shares. Credentials are never here: only names of Secret blocks."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        ...,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Unique source name; keys its incremental state.",
    )
    dataset: DatasetName = Field(
        ...,
        description="Staging dataset it feeds: customers, orders, social_posts, tickets, ticket_comments or ideas.",
    )
    columns: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="Staging column → source field (JSON path for APIs); unmapped columns keep their own name.",
    )

    @property
    def is_incremental(self) -> bool:
        """Whether each run reads only what changed (and rows are merged with stored ones)."""
        return bool(getattr(self, "watermark_column", None))

    def column_map(self) -> dict[str, str | list[str]]:
        """The full mapping: every contract column, by default read from the same-named field."""
        contract = CONTRACTS[self.dataset]
        return {column: self.columns.get(column, column) for column in contract.columns}

    def extract(
        self, state: dict[str, str | None], full_refresh: bool
    ) -> Extraction:  # pragma: no cover - abstract
        raise NotImplementedError


def parse_watermark(value: str | None) -> pd.Timestamp | None:
    if not value:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def watermark_in_future(value: str | None, source: str) -> str | None:
    """A warning when a stored watermark lies in the future (clock skew, bad manual edit)."""
    stamp = parse_watermark(value)
    if stamp is not None and stamp > pd.Timestamp(datetime.now(UTC)) + pd.Timedelta(minutes=5):
        return (
            f"{source}: stored watermark {stamp.isoformat()} is in the future; no rows read. "
            "Check the source clock or run with full_refresh."
        )
    return None


def rows_since(frame: pd.DataFrame, column: str, previous: str | None) -> pd.DataFrame:
    """Rows at or after the watermark; rows whose timestamp does not parse go on (to quarantine)."""
    since = parse_watermark(previous)
    if since is None:
        return frame
    stamps = pd.to_datetime(frame[column], utc=True, errors="coerce", format="ISO8601")
    return frame[(stamps >= since) | stamps.isna()].reset_index(drop=True)


def advance_watermark(frame: pd.DataFrame, column: str, previous: str | None) -> str | None:
    """The newest value of ``column`` in ``frame``, never moving backwards."""
    if frame.empty or column not in frame.columns:
        return previous
    stamps = pd.to_datetime(frame[column], utc=True, errors="coerce", format="ISO8601").dropna()
    if stamps.empty:
        return previous
    newest = stamps.max()
    old = parse_watermark(previous)
    return (newest if old is None or newest > old else old).isoformat()
