"""Customer text is untrusted: what a database cannot store is made storable, visibly.

A file decoded with the ``patronage-bytes`` error handler keeps each byte that is not UTF-8 as
one character of a private-use block (U+F780–U+F7FF for bytes 0x80–0xFF), so the row that holds
it can be found and quarantined instead of failing the whole file. (Lone surrogates, what
``surrogateescape`` would give, cannot live in pandas' Arrow-backed strings nor in PostgreSQL.)
PostgreSQL text cannot hold NUL (0x00) either; SQLite stores it, so the backends would differ.
"""

from __future__ import annotations

import codecs
import re

import pandas as pd

BYTE_BASE = 0xF700
UNREADABLE = re.compile("[\uf780-\uf7ff]")
ERROR_HANDLER = "patronage-bytes"


def _keep_bytes(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start : error.end]
    return "".join(chr(BYTE_BASE + b) for b in bad), error.end


codecs.register_error(ERROR_HANDLER, _keep_bytes)


def has_unreadable_bytes(values: pd.Series) -> pd.Series:
    """Per cell, whether it holds a byte that was not UTF-8 (a ``patronage-bytes`` character)."""
    return values.astype("string").str.contains(UNREADABLE.pattern, regex=True).fillna(False)


def escape_unstorable(text: str) -> str:
    """``text`` with each undecodable byte written ``\\xNN`` and each NUL ``\\x00``: what a
    person can still read in the quarantine, and any database can store."""
    escaped = UNREADABLE.sub(lambda m: f"\\x{ord(m.group()) - BYTE_BASE:02x}", text)
    return escaped.replace("\x00", "\\x00")


def storable_record(record: dict) -> dict:
    """A raw record whose text values any database can store (``escape_unstorable``)."""
    return {k: escape_unstorable(v) if isinstance(v, str) else v for k, v in record.items()}
