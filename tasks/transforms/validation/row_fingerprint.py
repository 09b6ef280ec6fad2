"""A raw row's identity by content, shared by validation (fixes) and publishing (quarantine)."""

from __future__ import annotations

import hashlib
import json


def row_fingerprint(row: dict) -> str:
    """Identifies one raw row by its content: the same row arriving again has the same print."""
    return hashlib.sha256(json.dumps(row, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
