"""Work the quarantine: list rejected rows, export them, hand back fixed ones.

A fixed row is validated again by the next run: if it passes it flows downstream and its
quarantine entry is marked ``released``; if not, it stays ``quarantined`` with the new reasons.
Nothing is ever deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select, update

from patronage.resources.database import ensure_schema
from patronage.schemas.contracts import CONTRACTS
from patronage.schemas.tables import quarantine


class FixFileError(ValueError):
    """A fix file could not be applied; the message names the file and line."""


def list_quarantine(
    engine: Engine, dataset: str | None = None, status: str | None = None
) -> pd.DataFrame:
    """Quarantine entries, oldest first (no raw row: that stays in the database and exports)."""
    ensure_schema(engine)
    t = quarantine
    query = select(
        t.c.id,
        t.c.dataset,
        t.c.row_key,
        t.c.failed_expectations,
        t.c.status,
        t.c.first_seen,
        t.c.last_run_id,
    ).order_by(t.c.id)
    if dataset:
        query = query.where(t.c.dataset == dataset)
    if status:
        query = query.where(t.c.status == status)
    with engine.connect() as conn:
        return pd.read_sql(query, conn)


def export_quarantine(engine: Engine, dataset: str, path: Path) -> int:
    """Write a dataset's quarantined rows as JSON Lines, one ``{"quarantine_id", "failed", "row"}``
    per line: edit ``row`` and give the file to ``apply_fixes``."""
    ensure_schema(engine)
    t = quarantine
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.id, t.c.failed_expectations, t.c.raw_row)
            .where(t.c.dataset == dataset, t.c.status == "quarantined")
            .order_by(t.c.id)
        ).all()
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(
                json.dumps(
                    {
                        "quarantine_id": row.id,
                        "failed": row.failed_expectations,
                        "row": json.loads(row.raw_row),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    return len(rows)


def _read_fixes(path: Path) -> Iterable[tuple[int, dict]]:
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            yield line_no, {"quarantine_id": int(entry["quarantine_id"]), "row": dict(entry["row"])}
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise FixFileError(
                f'{path}:{line_no}: expected {{"quarantine_id": …, "row": {{…}}}} '
                f"({type(exc).__name__})"
            ) from exc


def apply_fixes(engine: Engine, path: Path) -> int:
    """Store corrected rows from a fix file (all or nothing); the next run validates them."""
    entries = [
        (f"{path}:{line_no}", entry["quarantine_id"], entry["row"])
        for line_no, entry in _read_fixes(path)
    ]
    return store_fixes(engine, entries)


def fix_value(engine: Engine, quarantine_id: int, column: str, value: str) -> dict:
    """Correct one field of a quarantined row (on top of any earlier fix); the next run
    validates the row again and releases it if it passes. Returns the row as stored."""
    ensure_schema(engine)
    with engine.connect() as conn:
        found = conn.execute(
            select(quarantine.c.raw_row, quarantine.c.fixed_row).where(
                quarantine.c.id == quarantine_id
            )
        ).first()
    if found is None:
        raise FixFileError(f"no quarantine entry {quarantine_id}")
    row = json.loads(found.fixed_row or found.raw_row)
    row[column] = value
    store_fixes(engine, [(f"quarantine entry {quarantine_id}", quarantine_id, row)])
    return row


def store_fixes(engine: Engine, entries: list[tuple[str, int, dict]]) -> int:
    """Store corrected rows, all or nothing: each entry is (where it came from, for errors;
    the quarantine id; the whole corrected row)."""
    ensure_schema(engine)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        known = {
            r.id: r
            for r in conn.execute(
                select(quarantine.c.id, quarantine.c.dataset, quarantine.c.status)
            )
        }
        for origin, quarantine_id, row in entries:
            found = known.get(quarantine_id)
            if found is None:
                raise FixFileError(f"{origin}: no quarantine entry {quarantine_id}")
            if found.status == "released":
                raise FixFileError(f"{origin}: entry {quarantine_id} was already released")
            unknown = sorted(set(row) - set(CONTRACTS[found.dataset].columns))
            if unknown:
                raise FixFileError(
                    f"{origin}: {found.dataset} has no column(s) {', '.join(unknown)}"
                )
            conn.execute(
                update(quarantine)
                .where(quarantine.c.id == quarantine_id)
                .values(
                    status="fixed",
                    fixed_at=now,
                    fixed_row=json.dumps(
                        {k: "" if v is None else str(v) for k, v in row.items()},
                        ensure_ascii=False,
                        sort_keys=True,
                    ),
                )
            )
    return len(entries)


def quarantine_entries(
    engine: Engine, status: str | None = "quarantined", limit: int = 100
) -> list[dict]:
    """Entries with their raw (and fixed) rows parsed, oldest first, for a person to correct."""
    ensure_schema(engine)
    t = quarantine
    query = select(
        t.c.id, t.c.dataset, t.c.source, t.c.row_key, t.c.failed_expectations, t.c.raw_row,
        t.c.fixed_row, t.c.status, t.c.first_seen,
    ).order_by(t.c.id).limit(limit)  # fmt: skip
    if status:
        query = query.where(t.c.status == status)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    for row in rows:
        raw = json.loads(row.pop("raw_row") or "{}")
        row["raw"] = raw if isinstance(raw, dict) else {"row": raw}
        row["fixed"] = json.loads(row.pop("fixed_row") or "null")
    return rows
