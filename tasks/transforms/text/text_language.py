"""Which language a text is in (py3langid: a naive Bayes model shipped inside the package).

The text models read English well and other languages poorly, so every conversation is marked
with its language and a retention agent sees when a reading may be off. A text counts as
another language only when the identifier is at least ``MIN_PROBABILITY`` sure and the text
has a few words: "ok" or an emoji is no evidence of anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from patronage.tasks.transforms.text.text_signals import text_hash

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


def known_languages(digests: Iterable[bytes]) -> dict[bytes, str]:
    """The languages this process identified or read for ``digests`` (text hashes)."""
    return {d: _LANGUAGES[d] for d in digests if d in _LANGUAGES}


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_languages(texts: Sequence[object]) -> list[str]:
    """ISO 639-1 code per text; ``en`` when unsure, empty or too short to tell."""
    identifier = _identifier()
    # Conversations repeat texts ("+1", a template's reply): each distinct text is read once.
    tonight: dict[str, str] = {}
    out: list[str] = []
    for text in texts:
        if not isinstance(text, str):
            out.append(DEFAULT_LANGUAGE)
            continue
        if text not in tonight:
            tonight[text] = _language_of(text, identifier)
        out.append(tonight[text])
    return out


def _language_of(text: str, identifier) -> str:
    if len(text.split()) < MIN_WORDS:
        return DEFAULT_LANGUAGE
    digest = text_hash(text)
    if digest not in _LANGUAGES:
        language, probability = identifier.classify(text[:2_000])
        _LANGUAGES[digest] = language if probability >= MIN_PROBABILITY else DEFAULT_LANGUAGE
    return _LANGUAGES[digest]
