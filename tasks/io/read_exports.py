"""Read one raw export file (CSV or JSON Lines), every cell as text."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


class ExportReadError(ValueError):
    """A raw export could not be read; the message names the file and line."""


def read_export(path: Path) -> pd.DataFrame:
    """One CSV or JSON Lines file as strings; empty cells are empty strings, never NaN."""
    if not path.exists():
        raise ExportReadError(f"{path}: export not found")
    if path.suffix == ".csv":
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise ExportReadError(f"{path}: not a readable CSV: {exc}") from exc
        except pd.errors.EmptyDataError:
            return pd.DataFrame()
    records = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ExportReadError(f"{path}:{line_no}: not valid JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise ExportReadError(f"{path}:{line_no}: expected a JSON object per line")
            records.append({k: "" if v is None else str(v) for k, v in record.items()})
    return pd.DataFrame.from_records(records).fillna("")
