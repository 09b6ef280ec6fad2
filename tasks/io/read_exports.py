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


# orjson reads an integer beyond 64 bits as a float (123456789012345678901 became
# "1.2345678901234568e+20"), losing an id's digits: a float this large is read again.
_BEYOND_64_BITS = 2.0**63


def _loads(line: str) -> object:
    """One JSON value: orjson (6x faster), or the standard library for what orjson refuses or
    rounds (NaN, integers beyond 64 bits, lone surrogates), whose errors name what is wrong."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)
    if isinstance(value, dict) and any(
        type(v) is float and abs(v) >= _BEYOND_64_BITS for v in value.values()
    ):
        return json.loads(line)
    return value


def _json_lines_as_text(data: bytes) -> pd.DataFrame | None:
    """JSON Lines read by Arrow, each value as ``str`` gives it (missing and null: empty), or
    None where a column holds values ``str`` would spell otherwise than Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pa_json

    table = pa_json.read_json(io.BytesIO(data))
    # Arrow reads text that looks like a time as a time; read such fields again as the text.
    dated = [f for f in table.schema if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)]
    if dated:
        as_text = pa.schema([(f.name, pa.string()) for f in dated])
        options = pa_json.ParseOptions(explicit_schema=as_text, unexpected_field_behavior="infer")
        # In the order fields first appear, as a first read gives them.
        table = pa_json.read_json(io.BytesIO(data), parse_options=options).select(
            table.column_names
        )
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            text = column
        elif pa.types.is_integer(kind):
            text = pc.cast(column, pa.string())
        elif pa.types.is_boolean(kind):
            text = pc.if_else(column, "True", "False")  # Python's spelling, not JSON's
        elif pa.types.is_null(kind):
            text = pa.nulls(len(column), pa.string())
        else:  # decimals (1.0 is "1.0" in Python), nested objects and lists
            return None
        columns[name] = pc.fill_null(text, "")
    return pa.table(columns).to_pandas()


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
    with contextlib.suppress(Exception):
        # Arrow's reader is about 10x faster (1.5 M posts, tickets and comments took 19 s of a
        # million customers' night in Python); it takes only what the loop below would read
        # the same (text, whole numbers, true/false, null), and whatever it refuses or reads
        # otherwise (decimals, nested values, a line that is no object) the loop decides.
        table = _json_lines_as_text(text.encode("utf-8"))
        if table is not None:
            return table
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
