"""What a text says, from its meaning: intent with confidence and sentiment for any texts.

The one code path behind ``patronage text classify`` (and, once wired in, the nightly): texts →
sentence vectors (``text_encoder``) → intent and sentiment heads (``text_classifier``).
Without a company model the heads are fitted on the seed set Patronage ships, once per process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from patronage.tasks.transforms.text.text_classifier import (
    TextModel,
    fit_text_model,
    read_seed,
    seed_version,
)
from patronage.tasks.transforms.text.text_encoder import SentenceEncoder, load_encoder

SIGNAL_COLUMNS = ["intent", "intent_confidence", "sentiment", "sentiment_label"]
CLASSIFY_CHUNK = 50_000


_SEED_MODELS: dict[str, TextModel] = {}
# Vectors already computed or read in this process, by encoder and text hash. A nightly run
# replaces them with what its own database stores (``load_stored_vectors``), so they never
# outgrow the store plus one night's new text.
_VECTORS: dict[tuple[str, bytes], np.ndarray] = {}


def text_hash(text: str) -> bytes:
    """16-byte BLAKE2b digest of a text: its key in the vector cache."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def load_stored_vectors(model_id: str, vectors: dict[bytes, np.ndarray]) -> None:
    """Start from the vectors one database stores: what this process held before is dropped,
    so ``new_vectors`` is exactly tonight's new text for that database."""
    _VECTORS.clear()
    _VECTORS.update({(model_id, digest): vector for digest, vector in vectors.items()})


def new_vectors(
    model_id: str, texts: Sequence[object], stored: dict[bytes, np.ndarray]
) -> dict[bytes, np.ndarray]:
    """Vectors this process computed for ``texts`` that ``stored`` lacks, by text hash."""
    digests = {text_hash(t) for t in set(texts) if isinstance(t, str) and t.strip()}
    return {
        d: _VECTORS[(model_id, d)] for d in digests - stored.keys() if (model_id, d) in _VECTORS
    }


def unencoded_partitions(model_id: str, texts: Sequence[object], size: int) -> list[list[str]]:
    """The distinct readable texts this process holds no vector for, in partitions of at most
    ``size`` (ordered by hash, so every run cuts the same partitions from the same texts)."""
    missing: dict[bytes, str] = {}
    for text in dict.fromkeys(texts):  # each distinct text hashed once
        if isinstance(text, str) and text.strip():
            digest = text_hash(text)
            if (model_id, digest) not in _VECTORS:
                missing[digest] = text
    ordered = [missing[d] for d in sorted(missing)]
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def remember_vectors(model_id: str, texts: Sequence[str], vectors: np.ndarray) -> None:
    """Keep vectors computed elsewhere (another thread, a Dask worker) for ``embed_texts``."""
    _VECTORS.update({(model_id, text_hash(t)): v for t, v in zip(texts, vectors, strict=True)})


def embed_texts(encoder: SentenceEncoder, texts: Sequence[str]) -> np.ndarray:
    """``encoder.encode(texts)``, reusing vectors this process computed or read before."""
    # Hashed once per distinct text: conversations repeat texts.
    digest = {t: text_hash(t) for t in set(texts)}
    keys = [(encoder.model_id, digest[t]) for t in texts]
    missing: dict[tuple[str, bytes], int] = {}
    for i, key in enumerate(keys):
        if key not in _VECTORS and key not in missing:
            missing[key] = i
    fresh = dict(zip(missing, encoder.encode([texts[i] for i in missing.values()]), strict=True))
    if not keys:
        return np.zeros((0, encoder.dimension), dtype=np.float32)
    out = np.stack([fresh[k] if k in fresh else _VECTORS[k] for k in keys])
    _VECTORS.update(fresh)
    return out


def seed_model(encoder: SentenceEncoder) -> TextModel:
    """The seed-set model for ``encoder``, fitted once per process (about a second), from
    vectors a night stored when it has them (``seed_texts``: encoding the seed set took 1–3 s
    of every night)."""
    if encoder.model_id not in _SEED_MODELS:
        seed = read_seed()
        _SEED_MODELS[encoder.model_id] = fit_text_model(
            embed_texts(encoder, seed["text"].tolist()), seed, encoder.model_id, seed_version()
        )
    return _SEED_MODELS[encoder.model_id]


def seed_texts() -> list[str]:
    """The seed set's texts, whose vectors a night stores with its own new text."""
    return read_seed()["text"].tolist()


def text_model(
    model_dir: Path | None = None, encoder: SentenceEncoder | None = None
) -> tuple[SentenceEncoder, TextModel]:
    """The encoder and the model to use: ``model_dir``'s if given, else the seed model."""
    encoder = encoder or load_encoder()
    if model_dir is None:
        return encoder, seed_model(encoder)
    model = TextModel.load(Path(model_dir))
    if model.encoder_id != encoder.model_id:
        raise ValueError(
            f"{model_dir}: the model was trained on encoder {model.encoder_id}, "
            f"but {encoder.model_id} is loaded; train it again with `patronage text train`"
        )
    return encoder, model


def model_version(model_dir: Path | str | None) -> str:
    """The version of the model ``text_model(model_dir)`` scores with (what a night records)."""
    if not model_dir:
        return seed_version()
    return TextModel.load(Path(model_dir)).version


# A correction applies to texts at least this similar to the corrected one: the same message
# again, or with a changed name, date or order number — not a different message on the topic.
CORRECTION_SIMILARITY = 0.95


def spread_corrections(
    vectors: np.ndarray, ruled_out: Sequence[frozenset[str]]
) -> list[frozenset[str]]:
    """Per text, the intents ruled out for it or for any corrected text nearly the same.

    Args:
        vectors: Unit vectors, one per text.
        ruled_out: Per text, the intents people said it does not have (mostly empty).
    """
    corrected = [i for i, s in enumerate(ruled_out) if s]
    return spread_from(vectors, ruled_out, vectors[corrected], [ruled_out[i] for i in corrected])


def spread_from(
    vectors: np.ndarray,
    ruled_out: Sequence[frozenset[str]],
    corrected_vectors: np.ndarray,
    corrected: Sequence[frozenset[str]],
) -> list[frozenset[str]]:
    """``spread_corrections`` for some texts, with the corrected texts given apart (they may
    be among other texts): per text, its own ruled-out intents and those of every corrected
    text nearly the same."""
    if not len(corrected):
        return [frozenset(s) for s in ruled_out]
    close = (vectors @ corrected_vectors.T) >= CORRECTION_SIMILARITY
    return [
        frozenset(ruled_out[i]).union(*(corrected[j] for j in np.flatnonzero(close[i])))
        for i in range(len(vectors))
    ]


def classify_texts(
    texts: Sequence[object],
    model_dir: Path | None = None,
    encoder: SentenceEncoder | None = None,
    ruled_out: Sequence[frozenset[str]] | None = None,
) -> pd.DataFrame:
    """``intent``, ``intent_confidence``, ``sentiment``, ``sentiment_label`` per text, in order.

    Empty or missing texts are ``other`` with confidence 0 and neutral sentiment: there is
    nothing to read, and they must not look like anything else. ``ruled_out`` (per text) are
    intents people said a text does not have (``spread_corrections``); the next likeliest
    intent is taken instead.
    """
    encoder, model = text_model(model_dir, encoder)
    cleaned = pd.Series([t if isinstance(t, str) else "" for t in texts], dtype=object)
    readable = cleaned.str.strip() != ""
    out = pd.DataFrame(
        {
            "intent": "other",
            "intent_confidence": 0.0,
            "sentiment": 0.0,
            "sentiment_label": "neutral",
        },
        index=range(len(cleaned)),
    )
    if readable.any():
        texts = cleaned[readable].tolist()
        sets = None if ruled_out is None else [ruled_out[i] for i in np.flatnonzero(readable)]
        corrected = [j for j, s in enumerate(sets or []) if s]
        corrected_vectors = embed_texts(encoder, [texts[j] for j in corrected])
        parts = []
        # In chunks: a million texts' vectors at once are 1.5 GB; each text is read alone.
        for start in range(0, len(texts), CLASSIFY_CHUNK):
            vectors = embed_texts(encoder, texts[start : start + CLASSIFY_CHUNK])
            excluded = None
            if sets is not None:
                excluded = spread_from(
                    vectors, sets[start : start + CLASSIFY_CHUNK], corrected_vectors,
                    [sets[j] for j in corrected],
                )  # fmt: skip
            parts.append(model.predict(vectors, excluded))
        predicted = pd.concat(parts, ignore_index=True)
        predicted.index = cleaned.index[readable]
        out.loc[predicted.index, SIGNAL_COLUMNS] = predicted[SIGNAL_COLUMNS]
    return out.astype({"intent_confidence": "float64", "sentiment": "float64"})
