"""Exporting a queue to CSV for people who work in a spreadsheet (formula injection defused)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    Engine,
)

from patronage.work.queue_items import (
    FORMULA_PREFIXES,
    WorkError,
    list_items,
)


def escape_formula(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with ``'``; numbers pass as they
    are (a negative number is data, not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def export_queue(engine: Engine, queue: str, path: Path, *, include_done: bool = False) -> int:
    """Write a queue to ``path``: ``.csv`` (formula cells escaped) or ``.parquet`` (typed).

    Returns:
        Rows written.
    """
    path = Path(path)
    if path.suffix not in (".csv", ".parquet"):
        raise WorkError(f"export file {path} must end in .csv or .parquet")
    frame = list_items(engine, queue, include_snoozed=True, include_done=include_done)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.map(escape_formula).to_csv(path, index=False)
    return len(frame)
