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


# Arrow reads a JSON field that looks like a time as a time, and only a read with that field
# named as text reads it as written. The fields are found in the file's first lines, so that
# a file is read whole once (reading it twice was 6 s of a million customers' posts).
_PROBE_BYTES = 1 << 20


def _json_lines_as_text(data: bytes) -> pd.DataFrame | None:
    """JSON Lines read by Arrow, each value as ``str`` gives it (missing and null: empty), or
    None where a column holds values ``str`` would spell otherwise than Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pa_json

    def read(as_text: list[str]) -> pa.Table:
        if not as_text:
            return pa_json.read_json(io.BytesIO(data))
        schema = pa.schema([(name, pa.string()) for name in as_text])
        options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
        return pa_json.read_json(io.BytesIO(data), parse_options=options)

    def dated(table: pa.Table) -> list[str]:
        return [
            f.name
            for f in table.schema
            if pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)
        ]

    end = data.find(b"\n", _PROBE_BYTES)
    probe = pa_json.read_json(io.BytesIO(data if end < 0 else data[: end + 1]))
    table = probe if end < 0 and not dated(probe) else read(dated(probe))
    order = probe.column_names
    if set(table.column_names) != set(order) or dated(table):
        # Fields first met after the probe: read as a first read gives them, in the order
        # they first appear.
        first = pa_json.read_json(io.BytesIO(data))
        order, table = first.column_names, read(dated(first))
    table = table.select(order)
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


def _is_utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8 text, checked by Arrow (without building a Python string)."""
    import pyarrow as pa

    try:
        pa.array([data], pa.large_binary()).cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def _read_by_arrow(data: bytes, fmt: str) -> pd.DataFrame | None:
    """UTF-8 ``data`` read by Arrow's readers (about 7x faster for CSV, 10x for JSON Lines
    than pandas' and a Python loop), or None where Arrow cannot read it exactly as the loop
    below would."""
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, engine="pyarrow")
    return _json_lines_as_text(data)


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
    # UTF-8 goes to Arrow as the bytes it is: decoding it to a Python string and back took 9 s
    # of a million customers' exports. Whatever Arrow refuses or would read otherwise
    # (decimals, nested values, a line that is no object), pandas' reader and the loop below
    # decide, so a bad file fails (or reads) exactly as before, its line named.
    utf8 = _is_utf8(data)
    if utf8:
        with contextlib.suppress(Exception):
            table = _read_by_arrow(data.removeprefix(b"\xef\xbb\xbf"), fmt)
            if table is not None:
                return table
    try:
        text = data.decode("utf-8-sig", errors="strict" if strict else ERROR_HANDLER)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        row = f"row {line - 1} (line {line})" if fmt == "csv" else f"line {line}"
        raise ExportReadError(
            f"{where}: {row} is not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from exc
    if not utf8:
        with contextlib.suppress(Exception):
            # Bytes that were not UTF-8 are private-use characters now (``strict=False``).
            table = _read_by_arrow(text.encode("utf-8"), fmt)
            if table is not None:
                return table
    if fmt == "csv":
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
