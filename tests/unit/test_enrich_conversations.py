import pandas as pd

from patronage.tasks.transforms.conversations.enrich_conversations import enrich_conversations
from patronage.tasks.transforms.text.text_encoder import load_encoder
from patronage.tasks.transforms.text.text_signals import embed_texts


def test_conversations_get_intent_confidence_and_sentiment_by_meaning():
    frame = pd.DataFrame(
        {
            "conversation_id": ["a", "b", "c", "d"],
            "text": [
                "Closing my account this week, moving to your competitor.",
                "The parcel arrived smashed and nobody answers my emails",
                None,
                "Thank you, the repair was quick and friendly!",
            ],
        }
    )
    out = enrich_conversations(frame)
    assert list(out.columns) == [
        "conversation_id",
        "text",
        "intent",
        "intent_confidence",
        "sentiment",
        "sentiment_label",
        "language",
    ]
    assert out["intent"].tolist() == ["churn_threat", "complaint", "other", "praise"]
    assert out.loc[2, "intent_confidence"] == 0.0 and out.loc[2, "sentiment_label"] == "neutral"
    assert out["sentiment_label"].tolist() == ["negative", "negative", "neutral", "positive"]
    assert out["intent_confidence"].between(0, 1).all()


def test_vectors_are_reused_within_a_process():
    encoder = load_encoder()
    first = embed_texts(encoder, ["a text to remember", "another one"])
    calls = []
    original = encoder.encode
    encoder.encode = lambda texts, **kw: calls.append(list(texts)) or original(texts, **kw)
    try:
        again = embed_texts(encoder, ["another one", "a text to remember", "a new text"])
    finally:
        encoder.encode = original
    assert calls == [["a new text"]]
    assert (again[0] == first[1]).all() and (again[1] == first[0]).all()


def test_other_languages_are_marked_and_short_texts_are_not_guessed():
    from patronage.tasks.transforms.text.text_language import detect_languages

    assert detect_languages(
        [
            "Ich möchte meinen Vertrag kündigen, der Service ist schlecht.",
            "Où est ma commande ? Elle devait arriver hier.",
            "Where is my order? It should have arrived yesterday.",
            "ok merci",
            None,
            "",
        ]
    ) == ["de", "fr", "en", "en", "en", "en"]


def test_a_stored_language_is_taken_and_only_new_text_is_identified():
    from patronage.tasks.transforms.text.text_language import (
        detect_languages,
        load_stored_languages,
        new_languages,
    )
    from patronage.tasks.transforms.text.text_signals import text_hash

    stored = "Where is my order? It should have arrived yesterday."
    new = "Ich möchte meinen Vertrag kündigen, der Service ist schlecht."
    # A stored answer the identifier would never give: taking it proves nothing was re-read.
    load_stored_languages({text_hash(stored): "xx"})
    try:
        assert detect_languages([stored, new, "ok"]) == ["xx", "de", "en"]
        assert new_languages({text_hash(stored): "xx"}) == {text_hash(new): "de"}
    finally:
        load_stored_languages({})


def test_texts_read_in_chunks_read_as_in_one_piece(monkeypatch):
    """A correction in one chunk still reaches its near-identical text in another."""
    from patronage.tasks.transforms.text import text_signals

    texts = [
        "I will cancel my subscription if this happens again",
        "where is my parcel, it is a week late",
        "love the new colours",
        "I will cancel my subscription if this happens again.",
        None,
    ]
    ruled_out = [frozenset({"churn_threat"}), frozenset(), frozenset(), frozenset(), frozenset()]
    whole = text_signals.classify_texts(texts, ruled_out=ruled_out)
    monkeypatch.setattr(text_signals, "CLASSIFY_CHUNK", 2)
    chunked = text_signals.classify_texts(texts, ruled_out=ruled_out)
    pd.testing.assert_frame_equal(chunked, whole)
    assert whole.loc[3, "intent"] != "churn_threat" and whole.loc[4, "intent"] == "other"


def test_a_stored_reading_is_taken_unless_someone_corrected_a_text_like_it():
    from patronage.tasks.transforms.text import text_signals

    stored = "Closing my account this week, moving to your competitor."
    new = "The parcel arrived smashed and nobody answers my emails"
    _encoder, model = text_signals.text_model()
    # A stored reading the model would never give: taking it proves the text was not re-read.
    fake = ("praise", 0.5, 0.25, "positive")
    text_signals.load_stored_readings(model.fingerprint, {text_signals.text_hash(stored): fake})
    try:
        read = text_signals.classify_texts([stored, new, stored])
        assert read.loc[0].tolist() == list(fake) and read.loc[2].tolist() == list(fake)
        assert read.loc[1, "intent"] == "complaint"
        # Only the new text's reading is new; another model's readings do not count.
        fresh = text_signals.new_readings(model.fingerprint, {text_signals.text_hash(stored): fake})
        assert fresh.index.tolist() == [text_signals.text_hash(new)]
        assert fresh.loc[text_signals.text_hash(new), "intent"] == "complaint"
        assert text_signals.new_readings("another model", {}).empty
        # A person ruled out "praise" for the second row: that text is read again.
        ruled_out = [frozenset(), frozenset(), frozenset({"praise"})]
        corrected = text_signals.classify_texts([stored, new, stored], ruled_out=ruled_out)
        assert corrected["intent"].tolist() == ["churn_threat", "complaint", "churn_threat"]
    finally:
        text_signals.load_stored_readings("", {})
