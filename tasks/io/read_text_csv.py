"""Read a user's CSV of texts (``patronage text …``) with errors that name the file and row."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd


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
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n")  # header is row 0, so this is the data row number
        raise TextFileError(
            f"{path}: row {row} (line {row + 1}) is not UTF-8 text "
            f"(byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None
    try:
        frame = pd.read_csv(io.StringIO(decoded), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise TextFileError(f"{path}: not a readable CSV ({exc})") from None
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise TextFileError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"found {', '.join(map(str, frame.columns)) or 'none'}"
        )
    return frame
