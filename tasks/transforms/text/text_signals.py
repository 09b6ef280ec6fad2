"""What a text says, from its meaning: intent with confidence and sentiment for any texts.

The one code path behind ``patronage text classify`` (and, once wired in, the nightly): texts →
sentence vectors (``text_encoder``) → intent and sentiment heads (``text_classifier``).
Without a company model the heads are fitted on the seed set Patronage ships, once per process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from patronage.config import TextConfig
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


def new_vectors(model_id: str, stored: dict[bytes, np.ndarray]) -> dict[bytes, np.ndarray]:
    """Vectors of ``model_id`` this process computed that ``stored`` lacks, by text hash."""
    return {d: v for (m, d), v in _VECTORS.items() if m == model_id and d not in stored}


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
    vectors a night stored when it has them (a night stores the seed set's vectors with its
    own new text: encoding the seed set took 1–3 s of every night)."""
    if encoder.model_id not in _SEED_MODELS:
        seed = read_seed()
        _SEED_MODELS[encoder.model_id] = fit_text_model(
            embed_texts(encoder, seed["text"].tolist()), seed, encoder.model_id, seed_version()
        )
    return _SEED_MODELS[encoder.model_id]


def text_encoder(text: TextConfig) -> SentenceEncoder:
    """The encoder ``text`` names, with int8 activations if it asks for them; a company model
    (``model_dir``) trained on the other variant of the same encoder keeps reading the vectors
    it was fitted on, until it is trained again."""
    encoder = load_encoder(text.encoder_path, text.tokenizer_path, text.quantize_activations)
    if text.model_dir:
        trained_on = TextModel.load(Path(text.model_dir)).encoder_id
        if trained_on != encoder.model_id:
            other = load_encoder(
                text.encoder_path, text.tokenizer_path, not text.quantize_activations
            )
            if trained_on == other.model_id:
                return other
    return encoder


def text_model(
    model_dir: Path | None = None, encoder: SentenceEncoder | None = None
) -> tuple[SentenceEncoder, TextModel]:
    """The encoder and the model to use: ``model_dir``'s if given, else the seed model.
    Without ``encoder``, the one ``model_dir``'s model was trained on (``text_encoder``)."""
    encoder = encoder or text_encoder(TextConfig(model_dir=str(model_dir) if model_dir else None))
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
    spread = [frozenset(s) for s in ruled_out]
    if not len(corrected):
        return spread
    close = (vectors @ corrected_vectors.T) >= CORRECTION_SIMILARITY
    # Most texts are like no corrected one: only those that are take a union.
    for i in np.flatnonzero(close.any(axis=1)):
        spread[i] = spread[i].union(*(corrected[j] for j in np.flatnonzero(close[i])))
    return spread


@dataclass(repr=False)
class DistinctTexts:
    """Texts as their distinct values and, per input position, the code of its value:
    conversations repeat texts (a template's reply, "+1"), and everything read from a text
    depends on the text alone, so each distinct text is read once.

    Attributes:
        codes: Per input text, the position of its value in ``texts``.
        texts: The distinct texts; anything that is not a string counts as ``""``.
    """

    codes: np.ndarray
    texts: list[str]

    @classmethod
    def of(cls, texts: Sequence[object]) -> DistinctTexts:
        cleaned = pd.Series([t if isinstance(t, str) else "" for t in texts], dtype=object)
        codes, uniques = pd.factorize(cleaned)
        return cls(np.asarray(codes, dtype=np.intp), uniques.tolist())

    def hashed(self) -> DistinctTexts:
        """These texts with their ``digests`` worked out now rather than when first read."""
        _ = self.digests
        return self

    @cached_property
    def digests(self) -> list[bytes]:
        """``text_hash`` of each distinct text."""
        return [text_hash(t) for t in self.texts]

    @cached_property
    def readable(self) -> np.ndarray:
        """Per distinct text, whether it has anything to read (not empty or blank)."""
        return np.array([bool(t.strip()) for t in self.texts], dtype=bool)

    def rows(self, values: Sequence[object] | np.ndarray) -> np.ndarray:
        """Per-distinct ``values`` spread back to one per input text."""
        return np.asarray(values)[self.codes]


# Readings (``SIGNAL_COLUMNS``) this process made or read, by text model
# (``TextModel.fingerprint``) and text hash, as ``_VECTORS`` holds vectors: a night starts from
# what its database stores (``load_stored_readings``), so it reads only text first seen tonight
# or read by another model.
_READINGS: dict[tuple[str, bytes], tuple[str, float, float, str]] = {}


def load_stored_readings(fingerprint: str, readings: dict[bytes, tuple]) -> None:
    """Start from the readings one database stores for the model ``fingerprint``."""
    _READINGS.clear()
    _READINGS.update({(fingerprint, digest): reading for digest, reading in readings.items()})


def new_readings(fingerprint: str, stored: dict[bytes, tuple]) -> pd.DataFrame:
    """Readings by the model ``fingerprint`` this process made that ``stored`` lacks (or holds
    from another model), by text hash: ``SIGNAL_COLUMNS``, indexed by hash."""
    fresh = {d: r for (m, d), r in _READINGS.items() if m == fingerprint and stored.get(d) != r}
    return pd.DataFrame(
        list(fresh.values()), columns=SIGNAL_COLUMNS, index=pd.Index(list(fresh), dtype=object)
    )


def _excluded_intents(
    distinct: DistinctTexts, encoder: SentenceEncoder, ruled_out: Sequence[frozenset[str]] | None
) -> dict[int, frozenset[str]]:
    """Per distinct readable text (by position) with any, the intents ruled out for it: its
    own (from any row with that text) and those of every corrected text nearly the same
    (``spread_from``). Texts with none are left out."""
    if ruled_out is None:
        return {}
    own: dict[int, frozenset[str]] = {}
    for row in (r for r, s in enumerate(ruled_out) if s):
        code = int(distinct.codes[row])
        if distinct.readable[code]:
            own[code] = own.get(code, frozenset()) | frozenset(ruled_out[row])
    if not own:
        return {}
    corrected_vectors = embed_texts(encoder, [distinct.texts[i] for i in own])
    readable = np.flatnonzero(distinct.readable)
    excluded: dict[int, frozenset[str]] = {}
    # In chunks: a million texts' vectors at once are 1.5 GB.
    for start in range(0, len(readable), CLASSIFY_CHUNK):
        chunk = readable[start : start + CLASSIFY_CHUNK]
        spread = spread_from(
            embed_texts(encoder, [distinct.texts[i] for i in chunk]),
            [own.get(int(i), frozenset()) for i in chunk], corrected_vectors, list(own.values()),
        )  # fmt: skip
        excluded.update((int(i), s) for i, s in zip(chunk, spread, strict=True) if s)
    return excluded


def classify_texts(
    texts: Sequence[object] | DistinctTexts,
    model_dir: Path | None = None,
    encoder: SentenceEncoder | None = None,
    ruled_out: Sequence[frozenset[str]] | None = None,
) -> pd.DataFrame:
    """``intent``, ``intent_confidence``, ``sentiment``, ``sentiment_label`` per text, in order.

    Empty or missing texts are ``other`` with confidence 0 and neutral sentiment: there is
    nothing to read, and they must not look like anything else. ``ruled_out`` (per text) are
    intents people said a text does not have (``spread_corrections``); the next likeliest
    intent is taken instead. Each distinct text is read once; a text this process already
    read with the same model (``load_stored_readings``) and nobody corrected is not read again.
    """
    encoder, model = text_model(model_dir, encoder)
    distinct = texts if isinstance(texts, DistinctTexts) else DistinctTexts.of(texts)
    n = len(distinct.texts)
    intent = np.full(n, "other", dtype=object)
    confidence = np.zeros(n)
    sentiment = np.zeros(n)
    label = np.full(n, "neutral", dtype=object)
    excluded = _excluded_intents(distinct, encoder, ruled_out)
    to_read = []
    for i in np.flatnonzero(distinct.readable):
        reading = None if i in excluded else _READINGS.get((model.fingerprint, distinct.digests[i]))
        if reading is None:
            to_read.append(i)
        else:
            intent[i], confidence[i], sentiment[i], label[i] = reading
    # In chunks: a million texts' vectors at once are 1.5 GB.
    for start in range(0, len(to_read), CLASSIFY_CHUNK):
        chunk = to_read[start : start + CLASSIFY_CHUNK]
        vectors = embed_texts(encoder, [distinct.texts[i] for i in chunk])
        plain = model.predict(vectors)
        # What is stored is the model's reading before anyone's correction.
        _READINGS.update(
            ((model.fingerprint, distinct.digests[i]), reading)
            for i, reading in zip(
                chunk, plain[SIGNAL_COLUMNS].itertuples(index=False, name=None), strict=True
            )
        )
        corrections = [excluded.get(i, frozenset()) for i in chunk]
        read = model.predict(vectors, corrections) if any(corrections) else plain
        intent[chunk] = read["intent"].to_numpy(dtype=object)
        confidence[chunk] = read["intent_confidence"].to_numpy()
        sentiment[chunk] = read["sentiment"].to_numpy()
        label[chunk] = read["sentiment_label"].to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "intent": distinct.rows(intent),
            "intent_confidence": distinct.rows(confidence).astype("float64"),
            "sentiment": distinct.rows(sentiment).astype("float64"),
            "sentiment_label": distinct.rows(label),
        }
    )
