"""Read a user's CSV of texts (``patronage text …``) with errors that name the file and row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from patronage.tasks.io.read_exports import ExportReadError, parse_export


class TextFileError(ValueError):
    """The file cannot be read as the CSV the command needs; the message names file and row."""


def read_text_csv(path: Path, required: list[str]) -> pd.DataFrame:
    """All cells as text; ``required`` columns must be present.

    Raises:
        TextFileError: missing or empty file, bytes that are not UTF-8 (with the row), a
            malformed CSV line, or missing columns.
    """
    if not path.is_file():
        raise TextFileError(f"{path}: no such file")
    data = path.read_bytes()
    if not data.strip():
        raise TextFileError(
            f"{path}: the file is empty; expected a header with {', '.join(required)}"
        )
    try:
        frame = parse_export(data, "csv", str(path))
    except ExportReadError as exc:
        raise TextFileError(str(exc)) from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise TextFileError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"found {', '.join(map(str, frame.columns)) or 'none'}"
        )
    return frame
