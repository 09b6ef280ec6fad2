"""Before validation, drop every extracted row about a person who was erased."""

from __future__ import annotations

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from patronage.resources.database import PatronageDatabase
from patronage.schemas.contracts import CONTRACTS
from patronage.schemas.tables import privacy_suppressions
from patronage.tasks.io.sources import Extraction
from patronage.tasks.transforms.privacy.suppression import (
    identifier_hmac,
    suppressed_mask,
    ticket_identifiers,
)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_suppressions(database: PatronageDatabase) -> set[str]:
    """The HMACs of erased people's identifiers (empty before any erasure)."""
    rows = database.read_if_published(
        privacy_suppressions.name,
        select(privacy_suppressions.c.identifier_hmac),
        ["identifier_hmac"],
    )
    return set(rows["identifier_hmac"])


def drop_erased_people(
    extractions: list[Extraction],
    suppressed: set[str],
    privacy_key_secret: str | None,
    phone_region: str,
) -> tuple[dict[str, int], set[str]]:
    """Remove erased people's rows from ``extractions`` in place.

    Returns:
        Rows dropped per dataset, and the HMACs of identifiers newly learnt from those rows
        (to add to the suppression list when the run publishes).
    """
    if not suppressed:
        return {}, set()
    from patronage.tasks.io.privacy import load_privacy_key

    key = load_privacy_key(privacy_key_secret)
    known = set(suppressed)
    dropped: dict[str, int] = {}
    order = list(CONTRACTS)  # customers first: their rows reveal e-mails, phones and handles
    for extraction in sorted(extractions, key=lambda e: order.index(e.dataset)):
        mask, learned = suppressed_mask(
            extraction.dataset, extraction.frame, known, key, phone_region
        )
        known |= learned
        if extraction.dataset == "tickets" and mask.any():
            known |= {
                identifier_hmac(key, t)
                for t in ticket_identifiers(extraction.frame.loc[mask, "ticket_id"])
            }
        if mask.any():
            keep = ~mask.to_numpy()
            extraction.frame = extraction.frame[keep].reset_index(drop=True)
            if extraction.watermark_values is not None:
                extraction.watermark_values = pd.Series(
                    extraction.watermark_values.to_numpy()[keep]
                )
            dropped[extraction.dataset] = dropped.get(extraction.dataset, 0) + int(mask.sum())
    if dropped:
        get_run_logger().info("Rows of erased people dropped before validation: %s", dropped)
    return dropped, known - suppressed


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def record_privacy_upkeep(
    database: PatronageDatabase,
    learned: set[str],
    quarantine_retention_days: int,
) -> dict[str, int]:
    """After a publish: store suppressions learnt tonight, and expire old quarantined rows."""
    from patronage.tasks.io.privacy import add_suppressions, expire_quarantine

    with database.engine() as engine:
        return {
            "suppressions_added": add_suppressions(engine, learned),
            "quarantine_expired": expire_quarantine(engine, quarantine_retention_days),
        }
