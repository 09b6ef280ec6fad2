"""What every source is: a typed config that knows its dataset, mapping and incremental state."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from patronage.schemas.contracts import CONTRACTS

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
        watermark_values: Per row of ``frame`` (same index), the value the watermark is taken
            from; the run settles the stored watermark over the rows that pass validation only.
        previous_watermark: The stored watermark this extraction started from.
        quiet_runs: Published runs in a row, this one included, in which it brought no rows.
        last_rows_at: When it last brought rows (before this run).
    """

    source: str
    dataset: DatasetName
    frame: pd.DataFrame
    state: dict[str, str | None] = field(default_factory=dict)
    incremental: bool = False
    unknown_fields: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    watermark_values: pd.Series | None = None
    previous_watermark: str | None = None
    quiet_runs: int = 0
    last_rows_at: datetime | None = None


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


_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
# A timestamp more than this beyond now is a bad row or a wrong clock: it never becomes a
# watermark (it would freeze the source until someone runs full_refresh).
FUTURE_TOLERANCE = pd.Timedelta(days=1)


def parse_watermark(value: object) -> pd.Timestamp | float | None:
    """A stored watermark: a UTC timestamp, or a number (an id or version that only grows)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    if _NUMBER.fullmatch(text):
        return float(text)
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise ValueError(f"watermark {text!r} is neither a timestamp nor a number") from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def watermark_in_future(value: str | None, source: str) -> str | None:
    """A warning when a stored watermark lies in the future (clock skew, bad manual edit)."""
    stamp = parse_watermark(value)
    if isinstance(stamp, pd.Timestamp) and stamp > pd.Timestamp(datetime.now(UTC)) + pd.Timedelta(
        minutes=5
    ):
        return (
            f"{source}: stored watermark {stamp.isoformat()} is in the future; no rows read. "
            "Check the source clock or run with full_refresh."
        )
    return None


def _numeric(values: pd.Series, previous: object) -> bool:
    """Whether a watermark column holds numbers: the stored watermark says, else the values."""
    if previous is not None:
        return isinstance(previous, float)
    present = values.astype("string").str.strip().dropna()
    present = present[present != ""]
    return bool(len(present)) and bool(present.str.fullmatch(_NUMBER.pattern).all())


def watermark_values(values: pd.Series, previous: object) -> pd.Series:
    """``values`` as what a watermark compares: numbers or UTC timestamps (NaN/NaT if neither)."""
    if _numeric(values, previous):
        return pd.to_numeric(values, errors="coerce")
    return pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")


def require_watermark_column(frame: pd.DataFrame, column: str, source: str) -> None:
    """A clear error, naming the columns there are, when the watermark column is not one."""
    if column not in frame.columns:
        raise SourceError(
            f"{source}: watermark_column {column!r} is not a column of what the source returned "
            f"(columns: {', '.join(map(str, frame.columns)) or 'none'})"
        )


def rows_since(frame: pd.DataFrame, column: str, previous: str | None) -> pd.DataFrame:
    """Rows at or after the watermark; rows whose value does not parse go on (to quarantine)."""
    since = parse_watermark(previous)
    if since is None:
        return frame
    stamps = watermark_values(frame[column], since)
    return frame[(stamps >= since) | stamps.isna()].reset_index(drop=True)


def advance_watermark(
    frame: pd.DataFrame, column: str, previous: str | None, now: datetime | None = None
) -> str | None:
    """The newest value of ``column`` in ``frame``, never moving backwards and never beyond
    ``now`` + one day (a future-dated row must not freeze the source)."""
    if frame.empty or column not in frame.columns:
        return previous
    old = parse_watermark(previous)
    values = watermark_values(frame[column], old).dropna()
    if not isinstance(old, float) and len(values) and not _numeric(frame[column], old):
        limit = pd.Timestamp(now or datetime.now(UTC)) + FUTURE_TOLERANCE
        values = values[values <= limit]
    if values.empty:
        return previous
    newest = values.max()
    if old is not None and not newest > old:
        return previous
    if isinstance(newest, pd.Timestamp):
        return newest.isoformat()
    return str(int(newest)) if float(newest).is_integer() else str(newest)


def settled_watermark(extraction: Extraction, rejected: pd.Series) -> str | None:
    """The watermark to store once validation is done: the newest value among the rows that
    passed (``~rejected``, aligned with ``extraction.frame``), never backwards, never beyond
    now + one day. A quarantined row — a date in 2099, a typo — cannot move it."""
    current = extraction.state.get("watermark")
    if extraction.watermark_values is None:
        return current
    values = extraction.watermark_values[~rejected.to_numpy()]
    return advance_watermark(
        pd.DataFrame({"value": values.to_numpy()}), "value", extraction.previous_watermark
    )


def stuck_source(extraction: Extraction, max_quiet_runs: int) -> str | None:
    """A breach when an incremental source that used to bring rows has gone quiet too long."""
    if (
        not extraction.incremental
        or not max_quiet_runs
        or extraction.last_rows_at is None
        or extraction.quiet_runs < max_quiet_runs
    ):
        return None
    return (
        f"{extraction.source}: no new rows in {extraction.quiet_runs} runs in a row (last rows "
        f"on {pd.Timestamp(extraction.last_rows_at):%Y-%m-%d}, watermark "
        f"{extraction.state.get('watermark') or extraction.previous_watermark or '-'}, cursor "
        f"{'set' if extraction.state.get('cursor') else '-'}): is the source or its cursor stuck? "
        "Check it, or run once with full_refresh"
    )
