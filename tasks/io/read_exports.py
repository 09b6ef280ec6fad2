"""Read one raw export file (CSV or JSON Lines), every cell as text."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import orjson
import pandas as pd

from patronage.tasks.transforms.validation.storable_text import ERROR_HANDLER


class ExportReadError(ValueError):
    """A raw export could not be read; the message names the file and line."""


def _loads(line: str) -> object:
    """One JSON value: orjson (6x faster), or the standard library for what orjson refuses
    (NaN, integers beyond 64 bits, lone surrogates), whose errors name what is wrong."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


def read_export(path: Path) -> pd.DataFrame:
    """One CSV or JSON Lines file as strings; empty cells are empty strings, never NaN."""
    if not path.exists():
        raise ExportReadError(f"{path}: export not found")
    return parse_export(path.read_bytes(), "csv" if path.suffix == ".csv" else "jsonl", str(path))


def parse_export(data: bytes, fmt: str, where: str, strict: bool = True) -> pd.DataFrame:
    """CSV or JSON Lines bytes as strings; errors name ``where`` (the file) and the line.

    ``strict=False`` keeps bytes that are not UTF-8 as private-use characters
    (``storable_text``): staging then quarantines the rows holding them and the rest of the
    file goes on.
    """
    try:
        text = data.decode("utf-8-sig", errors="strict" if strict else ERROR_HANDLER)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        row = f"row {line - 1} (line {line})" if fmt == "csv" else f"line {line}"
        raise ExportReadError(
            f"{where}: {row} is not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from exc
    if fmt == "csv":
        with contextlib.suppress(Exception):
            # pyarrow's reader is about 7x faster (741,340 orders: 0.6 s against 4.4 s) and
            # reads well-formed files the same; whatever it refuses, pandas' own reader
            # decides below, so a bad file fails (or reads) exactly as before, its line named.
            return pd.read_csv(
                io.BytesIO(text.encode("utf-8")),
                dtype=str,
                keep_default_na=False,
                engine="pyarrow",
            )
        try:
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except pd.errors.ParserError as exc:
            raise ExportReadError(f"{where}: not a readable CSV: {exc}") from exc
        except pd.errors.EmptyDataError:
            return pd.DataFrame()
    records = []
    # split on "\n" only: str.splitlines would also split on U+2028 inside JSON strings
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = _loads(line)
        except json.JSONDecodeError as exc:
            raise ExportReadError(f"{where}:{line_no}: not valid JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise ExportReadError(f"{where}:{line_no}: expected a JSON object per line")
        records.append({k: "" if v is None else str(v) for k, v in record.items()})
    return pd.DataFrame.from_records(records).fillna("")
