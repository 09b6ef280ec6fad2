"""Which language a text is in (py3langid: a naive Bayes model shipped inside the package).

The text models read English well and other languages poorly, so every conversation is marked
with its language and a retention agent sees when a reading may be off. A text counts as
another language only when the identifier is at least ``MIN_PROBABILITY`` sure and the text
has a few words: "ok" or an emoji is no evidence of anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

MIN_PROBABILITY = 0.9
MIN_WORDS = 3
DEFAULT_LANGUAGE = "en"


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_languages(texts: Sequence[object]) -> list[str]:
    """ISO 639-1 code per text; ``en`` when unsure, empty or too short to tell."""
    identifier = _identifier()
    out: list[str] = []
    for text in texts:
        if not isinstance(text, str) or len(text.split()) < MIN_WORDS:
            out.append(DEFAULT_LANGUAGE)
            continue
        language, probability = identifier.classify(text[:2_000])
        out.append(language if probability >= MIN_PROBABILITY else DEFAULT_LANGUAGE)
    return out
