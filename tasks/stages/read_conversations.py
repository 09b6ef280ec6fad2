"""Link stage: who is speaking (customer or stakeholder), what they mean, how they engage."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from patronage.config import IdentityConfig, TextConfig
from patronage.resources.database import PatronageDatabase
from patronage.tasks.io.identity_links import (
    read_identity_candidates,
    read_identity_links,
    read_profile_linking,
)
from patronage.tasks.io.identity_overrides import read_identity_overrides
from patronage.tasks.io.phone_keys import read_phone_keys
from patronage.tasks.io.text_corrections import read_text_corrections
from patronage.tasks.io.text_embeddings import read_text_embeddings
from patronage.tasks.stages.encode_texts import TextEncoding, start_encoding
from patronage.tasks.stages.link_conversations import link_conversations, resolve_identities
from patronage.tasks.stages.value_customers import Scored
from patronage.tasks.transforms.linking.identity import build_conversations, remember_phone_keys
from patronage.tasks.transforms.linking.probable_links import ProbableLinks
from patronage.tasks.transforms.text.text_language import load_stored_languages, new_languages
from patronage.tasks.transforms.text.text_signals import (
    load_stored_readings,
    load_stored_vectors,
    model_version,
    new_readings,
    new_vectors,
    text_encoder,
    text_model,
)


@dataclass(repr=False)
class TextReading:
    """Tonight's conversations before anyone is linked, what earlier nights stored about their
    text, and the new text's encoding under way (``start_reading_texts``).

    Attributes:
        speakers: ``build_conversations`` of tonight's valid rows.
        encoder_id: The sentence encoder that reads the text.
        reading_model: The fingerprint of tonight's text model (``TextModel.fingerprint``).
        stored_vectors: Text vectors earlier nights stored (by text hash).
        stored_languages: Languages earlier nights stored (by text hash).
        stored_readings: Readings earlier nights stored by tonight's text model.
        encoding: Tonight's new text, being encoded on the task runner.
    """

    speakers: pd.DataFrame
    encoder_id: str
    reading_model: str
    stored_vectors: dict[bytes, np.ndarray]
    stored_languages: dict[bytes, str]
    stored_readings: dict[bytes, tuple]
    encoding: TextEncoding

    @property
    def rows(self) -> int:
        return len(self.speakers)

    @cached_property
    def fresh_vectors(self) -> dict[bytes, np.ndarray]:
        """Vectors of text first encoded tonight (the seed set's too), to store for the next
        nights (read once the night's text was read)."""
        return new_vectors(self.encoder_id, self.stored_vectors)

    @cached_property
    def fresh_languages(self) -> dict[bytes, str]:
        """Languages identified tonight that the store lacks (new text, or a vector stored
        before languages were), by text hash."""
        return new_languages(self.stored_languages)

    @cached_property
    def fresh_readings(self) -> pd.DataFrame:
        """Readings made tonight that the store lacks (new text, or text stored with another
        model's reading), by text hash."""
        return new_readings(self.reading_model, self.stored_readings)

    def __repr__(self) -> str:
        return f"TextReading({self.rows} conversations, {self.encoding.texts} texts to encode)"


@dataclass(repr=False)
class Linked:
    """Conversations read and tied to people.

    Attributes:
        conversations: One row per post, ticket, comment or idea, with speaker and intent.
        stakeholders: One row per non-customer speaker with influence and engagement.
        identity_links: Probabilistic author links to keep.
        identity_candidates: Near misses (just below the linking threshold) for review.
        text_model_version: The intent/sentiment model in use.
        texts: What was stored and what is new about the conversations' text (vectors,
            languages, readings; the encoder in use).
        linking: Tonight's record linkage: its memory for the next night, what it compared.
    """

    conversations: pd.DataFrame
    stakeholders: pd.DataFrame
    identity_links: pd.DataFrame
    identity_candidates: pd.DataFrame
    text_model_version: str
    texts: TextReading
    linking: ProbableLinks = field(default_factory=lambda: ProbableLinks(pd.DataFrame()))

    @property
    def rows(self) -> int:
        return len(self.conversations)

    def __repr__(self) -> str:
        return f"Linked({self.rows} conversations, {len(self.stakeholders)} stakeholders)"


# The datasets whose rows are conversations (what ``start_reading_texts`` reads).
CONVERSATION_DATASETS = ("social_posts", "tickets", "ticket_comments", "ideas")


def start_reading_texts(
    valid: dict[str, pd.DataFrame],
    database: PatronageDatabase,
    identity: IdentityConfig,
    text: TextConfig,
    brand_handles: Collection[str],
) -> TextReading:
    """Gather tonight's conversations, take what earlier nights stored about their text, and
    start encoding the text never seen before in partitions on the task runner (Dask workers,
    when the flow runs on Dask): it runs while the customers are scored and the speakers
    linked, and ``read_conversations`` waits for it only before the text is read."""
    encoder = text_encoder(text)
    stored_vectors, stored_languages, readings = read_text_embeddings(database, encoder.model_id)
    load_stored_vectors(encoder.model_id, stored_vectors)
    load_stored_languages(stored_languages)
    # Stored readings count only if tonight's text model made them.
    reading_model = text_model(Path(text.model_dir) if text.model_dir else None, encoder)[1]
    stored_readings = {d: r[1:] for d, r in readings.items() if r[0] == reading_model.fingerprint}
    del readings
    load_stored_readings(reading_model.fingerprint, stored_readings)
    remember_phone_keys(identity.phone_region, read_phone_keys(database, identity.phone_region))
    speakers = build_conversations(
        valid["social_posts"], valid["tickets"], valid["ticket_comments"], valid["ideas"],
        identity.phone_region, list(brand_handles),
    )  # fmt: skip
    return TextReading(
        speakers,
        encoder.model_id,
        reading_model.fingerprint,
        stored_vectors,
        stored_languages,
        stored_readings,
        start_encoding(speakers["text"].tolist(), text),
    )


def read_conversations(
    valid: dict[str, pd.DataFrame],
    scored: Scored,
    database: PatronageDatabase,
    identity: IdentityConfig,
    text: TextConfig,
    brand_handles: Collection[str],
    as_of: date | None = None,
    full_refresh: bool = False,
    reading: TextReading | None = None,
) -> Linked:
    """Link speakers to customers (people's overrides and earlier links kept), read intent and
    sentiment with the text models in use; only text not seen before is encoded tonight, only
    profiles not compared before are compared (all of them on a ``full_refresh``).
    ``reading``: ``start_reading_texts`` of the same night, when the caller started it."""
    reading = reading or start_reading_texts(valid, database, identity, text, brand_handles)
    overrides = read_identity_overrides(database)
    identities = resolve_identities(
        valid["customers"], valid["social_posts"], valid["tickets"], overrides,
        read_identity_links(database), identity, list(brand_handles),
        read_profile_linking(database), read_identity_candidates(database), as_of, full_refresh,
    )  # fmt: skip
    conversations, stakeholders, links, linking = link_conversations(
        valid["customers"],
        valid["social_posts"],
        valid["tickets"],
        valid["ticket_comments"],
        valid["ideas"],
        overrides,
        scored.scores,
        identity=identity,
        text_corrections=read_text_corrections(database),
        text=text,
        brand_handles=list(brand_handles),
        conversations=reading.speakers,
        identities=identities,
        # The text is read once every new text has its vector.
        wait_for_text=reading.encoding.collect,
    )
    return Linked(
        conversations,
        stakeholders,
        links[links["method"] != "candidate"].reset_index(drop=True),
        links[links["method"] == "candidate"].reset_index(drop=True),
        model_version(text.model_dir),
        reading,
        linking,
    )
