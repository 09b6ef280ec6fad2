"""Drop the rows of people who asked to be forgotten, before anything about them is stored.

The suppression list holds keyed HMACs of identifiers (``customer:<id>``, ``email:<address>``,
``phone:<E.164>``, ``<platform>:<handle>``), never the identifiers: without the key, nobody can
test a guess against it. Grain of every output: the input's.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import pandas as pd

from patronage.tasks.transforms.linking.identity import email_key, normalize_handle, phone_key


def identifier_hmac(key: bytes, identifier: str) -> str:
    """HMAC-SHA256 of a normalised identifier, hex."""
    return hmac.new(key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()


def _handles(text: object) -> list[str]:
    """``twitter:abc; instagram:def`` (the CRM's social_handles) as identity keys."""
    if not isinstance(text, str):
        return []
    keys = []
    for entry in text.replace(",", ";").split(";"):
        if ":" in entry:
            platform, handle = entry.strip().split(":", 1)
            keys.append(normalize_handle(handle, platform))
    return [k for k in keys if k]


def row_identifiers(dataset: str, frame: pd.DataFrame, phone_region: str = "US") -> pd.Series:
    """Per row, the identifiers of the person it is about (a list of identity keys)."""

    def col(name: str) -> pd.Series:
        return frame[name] if name in frame else pd.Series("", index=frame.index)

    rows: list[list[str | None]]
    if dataset == "customers":
        rows = [
            [f"customer:{c}" if c else None, email_key(e), phone_key(p, phone_region), *_handles(h)]
            for c, e, p, h in zip(
                col("customer_id"), col("email"), col("phone"), col("social_handles"), strict=True
            )
        ]
    elif dataset == "orders":
        rows = [[f"customer:{c}" if c else None] for c in col("customer_id")]
    elif dataset == "social_posts":
        platforms = col("platform").replace("", "twitter")
        rows = [
            [normalize_handle(h, p or "twitter")]
            for h, p in zip(col("author_handle"), platforms, strict=True)
        ]
    elif dataset == "tickets":
        rows = [
            [email_key(e), phone_key(p, phone_region), normalize_handle(v)]
            for e, p, v in zip(
                col("requester_email"), col("requester_phone"), col("via_handle"), strict=True
            )
        ]
    elif dataset == "ideas":
        rows = [
            [email_key(e), normalize_handle(h)]
            for e, h in zip(col("author_email"), col("author_handle"), strict=True)
        ]
    elif dataset == "ticket_comments":
        rows = [[f"ticket:{t}" if t else None] for t in col("ticket_id")]
    else:
        rows = [[] for _ in range(len(frame))]
    return pd.Series([[k for k in r if k] for r in rows], index=frame.index, dtype=object)


def suppressed_mask(
    dataset: str,
    frame: pd.DataFrame,
    suppressed: set[str],
    key: bytes,
    phone_region: str = "US",
) -> tuple[pd.Series, set[str]]:
    """Rows about a suppressed person, and the HMACs of every identifier those rows carry.

    A CRM row found by one identifier (its customer id) reveals the others (e-mail, phone,
    handles): they are returned so the run suppresses them too, in every later dataset and
    every later night.
    """
    if frame.empty or not suppressed:
        return pd.Series(False, index=frame.index), set()
    identifiers = row_identifiers(dataset, frame, phone_region)
    macs = identifiers.map(lambda ids: {identifier_hmac(key, i) for i in ids})
    mask = macs.map(lambda m: bool(m & suppressed)).astype(bool)
    learned: set[str] = set().union(*macs[mask]) if mask.any() else set()
    return mask, learned


def ticket_identifiers(ticket_ids: Iterable[str]) -> set[str]:
    """The ``ticket:<id>`` identifiers through which a dropped ticket's comments are dropped."""
    return {f"ticket:{t}" for t in ticket_ids if t}
