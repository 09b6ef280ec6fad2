"""Map API/database records onto a staging dataset's columns (pure; no I/O)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import pandas as pd
from jsonpath_ng import parse as parse_path

from patronage.schemas.contracts import CONTRACTS


class MissingFieldError(ValueError):
    """A record lacks a field that a required staging column is mapped from."""


@lru_cache(maxsize=512)
def _compiled(path: str):
    return parse_path(path)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _root(path: str) -> str:
    return path.lstrip("$.").split(".", 1)[0].split("[", 1)[0]


def map_records(
    records: Iterable[dict],
    dataset: str,
    columns: dict[str, str | list[str]],
    source: str,
    where: str = "",
) -> tuple[pd.DataFrame, Counter]:
    """Turn records into a frame of strings with the dataset's staging columns.

    Args:
        records: Parsed JSON objects or database rows as dicts.
        dataset: Staging dataset the records feed (``tickets``, ``customers``…).
        columns: Staging column → JSON path into the record (``via.source.from.address``), or
            a list of paths whose values are joined with a space (first + last name).
        source: Source name, for error messages.
        where: Where the records came from (e.g. ``page 3``), for error messages.

    Returns:
        ``(frame, unknown)``: one row per record with every mapped column as text (missing
        optional values are empty strings), and how often each top-level field that no
        mapping reads was seen.

    Raises:
        MissingFieldError: a required column's field is absent from a record; names the source,
            the record's position, the field and the column.
    """
    contract = CONTRACTS[dataset]
    known_roots = {
        _root(p)
        for paths in columns.values()
        for p in ([paths] if isinstance(paths, str) else paths)
    }
    unknown: Counter = Counter()
    rows = []
    for position, record in enumerate(records, start=1):
        unknown.update(k for k in record if k not in known_roots)
        row = {}
        for column, paths in columns.items():
            parts = []
            for path in [paths] if isinstance(paths, str) else paths:
                found = _compiled(path).find(record)
                if not found and column in contract.required and _root(path) not in record:
                    raise MissingFieldError(
                        f"{source}: required field '{path}' (for {dataset}.{column}) is missing "
                        f"from record {position}{' of ' + where if where else ''}"
                    )
                parts.append(_text(found[0].value) if found else "")
            row[column] = " ".join(p for p in parts if p)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(columns), dtype=object).fillna(""), unknown
