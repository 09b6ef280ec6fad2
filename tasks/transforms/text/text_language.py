"""Which language a text is in (py3langid: a naive Bayes model shipped inside the package).

The text models read English well and other languages poorly, so every conversation is marked
with its language and a retention agent sees when a reading may be off. A text counts as
another language only when the identifier is at least ``MIN_PROBABILITY`` sure and the text
has a few words: "ok" or an emoji is no evidence of anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from patronage.tasks.transforms.text.text_signals import DistinctTexts

MIN_PROBABILITY = 0.9
MIN_WORDS = 3
DEFAULT_LANGUAGE = "en"

# Languages already identified, by text hash: a night starts from what its database stores
# next to each text's vector (``load_stored_languages``), so it identifies only text first read
# tonight (py3langid takes about 70 µs a text: a minute a night at a million conversations).
_LANGUAGES: dict[bytes, str] = {}


def load_stored_languages(languages: dict[bytes, str]) -> None:
    """Start from the languages one database stores (what this process held is dropped)."""
    _LANGUAGES.clear()
    _LANGUAGES.update(languages)


def new_languages(stored: dict[bytes, str]) -> dict[bytes, str]:
    """Languages this process identified that ``stored`` lacks, by text hash."""
    return {d: language for d, language in _LANGUAGES.items() if d not in stored}


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_languages(texts: Sequence[object] | DistinctTexts) -> list[str]:
    """ISO 639-1 code per text; ``en`` when unsure, empty or too short to tell."""
    # Conversations repeat texts ("+1", a template's reply): each distinct text is read once.
    distinct = texts if isinstance(texts, DistinctTexts) else DistinctTexts.of(texts)
    found = [
        _language_of(text, digest) if len(text.split()) >= MIN_WORDS else DEFAULT_LANGUAGE
        for text, digest in zip(distinct.texts, distinct.digests, strict=True)
    ]
    return distinct.rows(np.array(found, dtype=object)).tolist()


def _language_of(text: str, digest: bytes) -> str:
    if digest not in _LANGUAGES:
        language, probability = _identifier().classify(text[:2_000])
        _LANGUAGES[digest] = language if probability >= MIN_PROBABILITY else DEFAULT_LANGUAGE
    return _LANGUAGES[digest]
