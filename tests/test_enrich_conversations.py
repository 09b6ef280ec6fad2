import pandas as pd
import pytest

from tasks.transforms.enrich_conversations import classify_intent, enrich_conversations


@pytest.mark.parametrize(
    ("text", "intent", "cue"),
    [
        ("I am done with @acme, cancelling my account", "churn_threat", "i am done with"),
        ("My order arrived damaged again", "complaint", "damaged"),
        ("Please add a dark mode", "suggestion", "please add"),
        ("Do you ship to Norway?", "question", "do you"),
        ("Ships to Norway?", "question", "?"),
        ("Love my new jacket", "praise", "love"),
        ("Just bought socks", "other", ""),
    ],
)
def test_intent_and_cue(text, intent, cue):
    assert classify_intent(text) == (intent, cue)


def test_sentiment_labels_handle_negation_and_emoji():
    frame = pd.DataFrame(
        {"text": ["I love this shop 😍", "I do not love this shop", "The parcel came on Monday"]}
    )
    out = enrich_conversations(frame)
    assert out["sentiment_label"].tolist() == ["positive", "negative", "neutral"]
