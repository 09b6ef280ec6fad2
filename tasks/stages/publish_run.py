"""Publish stage: store new text vectors, publish the queues in one transaction, keep up the
privacy records."""

from __future__ import annotations

from dataclasses import dataclass, field

from patronage.resources.database import PatronageDatabase
from patronage.tasks.io.publish_queues import PublishBatch, publish_queues
from patronage.tasks.io.text_embeddings import store_text_embeddings
from patronage.tasks.io.validated_rows import store_validated_rows
from patronage.tasks.stages.drop_erased_people import record_privacy_upkeep
from patronage.tasks.stages.read_conversations import Linked
from patronage.tasks.stages.validate_datasets import Validated
from patronage.tasks.transforms.validation.row_fingerprint import hash_version


@dataclass
class Published:
    """What a publish wrote: counts per table and whether the queues changed."""

    counts: dict = field(default_factory=dict)
    privacy: dict | None = None

    @property
    def rows(self) -> int:
        return int(self.counts.get("retention", 0)) + int(self.counts.get("ideation", 0))

    @property
    def queues_changed(self) -> bool:
        return self.counts["fingerprint_before"] != self.counts["fingerprint_after"]


def publish_run(
    database: PatronageDatabase,
    batch: PublishBatch,
    linked: Linked,
    learned_suppressions: set[str],
    quarantine_retention_days: int,
    validated: Validated | None = None,
) -> Published:
    """Publish ``batch``. New text vectors and tonight's valid rows' hashes are stored first
    (caches: a rerun after a failed publish need not encode or validate again); erasure HMACs
    learnt tonight and quarantine expiry after."""
    store_text_embeddings(
        database, linked.texts.encoder_id, linked.texts.fresh_vectors,
        linked.texts.fresh_languages, linked.texts.fresh_readings, linked.texts.reading_model,
    )  # fmt: skip
    if validated is not None:
        store_validated_rows(
            database, validated.valid_hashes, validated.versions, hash_version(), batch.as_of,
            batch.run_id,
        )  # fmt: skip
    counts = publish_queues(database, batch)
    privacy = record_privacy_upkeep(database, learned_suppressions, quarantine_retention_days)
    return Published(counts, privacy)
