"""The text reading Patronage used before its text models, kept only as the benchmarks' baseline:
intent from a cue list of regular expressions (first match wins), VADER sentiment, and ideas
grouped by token-set similarity with connected components."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

# Checked in this order; the first intent whose cue matches wins. A churn threat is also a
# complaint, but the stronger signal is the one a retention team must see.
INTENT_CUES: list[tuple[str, re.Pattern[str]]] = [
    (
        "churn_threat",
        re.compile(
            r"\b(cancel(?:l?ing)?\s+my|close my account|switch(?:ing)? to|last time i buy|"
            r"i am done with|i'm done with|considering (?:other|leaving)|not order again|"
            r"leaving|won't (?:buy|order) again)",
            re.I,
        ),
    ),
    (
        "complaint",
        re.compile(
            r"\b(broken|damaged|late delivery|were late|slow|disappoint\w*|not happy|refund|"
            r"nobody (?:is )?(?:answer|repl)\w*|worst|let(?:ting)? me down|not impressed|"
            r"still waiting)",
            re.I,
        ),
    ),
    (
        "suggestion",
        re.compile(
            r"\b(suggest\w*|please add|would be great|would love|feature request|wish|please offer|"
            r"please give us|add an?|offer|start an?)\b",
            re.I,
        ),
    ),
    ("question", re.compile(r"\?|\b(how do|does anyone|do you|can i|could you)\b", re.I)),
    (
        "praise",
        re.compile(r"\b(love|great|thanks|thank you|awesome|favourite|never disappoint)", re.I),
    ),
]


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def classify_intent(text: object) -> tuple[str, str]:
    """The intent of one text and the cue that matched (``("other", "")`` if none)."""
    if not isinstance(text, str):
        return "other", ""
    for intent, pattern in INTENT_CUES:
        match = pattern.search(text)
        if match:
            return intent, match.group(0).lower()
    return "other", ""


def sentiment_label(compound: float) -> str:
    """VADER's recommended cut-offs on the compound score."""
    if compound >= 0.05:
        return "positive"
    if compound <= -0.05:
        return "negative"
    return "neutral"


def enrich_conversations(conversations: pd.DataFrame) -> pd.DataFrame:
    """Add ``sentiment`` (VADER compound, -1..1), ``sentiment_label``, ``intent``, ``intent_cue``."""
    analyzer = _vader()
    texts = conversations["text"].fillna("").astype(str)
    compound = [analyzer.polarity_scores(t)["compound"] for t in texts]
    intents = [classify_intent(t) for t in texts]
    out = conversations.copy()
    out["sentiment"] = pd.Series(compound, index=out.index, dtype="float64")
    out["sentiment_label"] = out["sentiment"].map(sentiment_label)
    out["intent"] = [i for i, _ in intents]
    out["intent_cue"] = [c for _, c in intents]
    return out


STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "for",
        "of",
        "in",
        "on",
        "at",
        "my",
        "me",
        "i",
        "we",
        "us",
        "our",
        "you",
        "your",
        "it",
        "is",
        "be",
        "would",
        "could",
        "please",
        "give",
        "add",
        "let",
        "and",
        "or",
        "with",
        "by",
        "per",
        "more",
        "less",
        "really",
        "so",
        "this",
        "that",
        "suggestion",
    ]
)


def normalize_idea_text(text: object) -> str:
    """Lower case, no mentions, URLs, punctuation or stop words: what two phrasings share."""
    if not isinstance(text, str):
        return ""
    text = re.sub(r"@\w+|https?://\S+", " ", text.lower())
    words = re.findall(r"[a-z0-9]+", text)
    return " ".join(w for w in words if w not in STOPWORDS)


def cluster_ideas(texts: list[str], threshold: float) -> np.ndarray:
    """Group texts whose token-set similarity reaches ``threshold`` (0-100); returns labels."""
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=int)
    scores = process.cdist(
        texts, texts, scorer=fuzz.token_set_ratio, score_cutoff=threshold, dtype=np.uint8, workers=1
    )
    rows, cols = np.nonzero(scores)
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels
