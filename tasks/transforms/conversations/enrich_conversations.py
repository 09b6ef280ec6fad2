"""Sentiment and intent for every conversation row (same grain as ``conversations``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from patronage.tasks.transforms.text.text_encoder import SentenceEncoder
from patronage.tasks.transforms.text.text_language import detect_languages
from patronage.tasks.transforms.text.text_signals import DistinctTexts, classify_texts


def enrich_conversations(
    conversations: pd.DataFrame,
    model_dir: Path | None = None,
    corrections: pd.DataFrame | None = None,
    encoder: SentenceEncoder | None = None,
    texts: DistinctTexts | None = None,
) -> pd.DataFrame:
    """Add ``intent``, ``intent_confidence``, ``sentiment`` (−1..1), ``sentiment_label`` and
    ``language`` (``text_language``: the English models read other languages poorly),
    read by meaning (``text_signals.classify_texts``): the same code as ``patronage text classify``.

    Args:
        conversations: Any frame with a ``text`` column.
        model_dir: A company model from ``patronage text train``; default the seed model.
        corrections: ``conversation_id``, ``not_intent``: what people said a conversation is
            not (a case resolved as ``not_a_churn_threat``); it holds for that conversation and
            for nearly identical texts.
        encoder: Sentence encoder; default the bundled one.
        texts: ``DistinctTexts.of`` the ``text`` column, when the caller has it.
    """
    ruled_out = None
    if corrections is not None and len(corrections) and "conversation_id" in conversations:
        by_conversation = corrections.groupby("conversation_id")["not_intent"].agg(frozenset)
        ruled_out = [
            by_conversation.get(c, frozenset()) for c in conversations["conversation_id"].tolist()
        ]
    # Intent and language both read each distinct text once, hashed once.
    if texts is None:
        texts = DistinctTexts.of(conversations["text"].tolist())
    signals = classify_texts(texts, model_dir, encoder, ruled_out=ruled_out)
    out = conversations.copy(deep=False)  # copy-on-write: the caller's frame stays as it was
    for column in signals.columns:
        out[column] = signals[column].to_numpy()
    out["language"] = detect_languages(texts)
    return out
