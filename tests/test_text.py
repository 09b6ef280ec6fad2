"""Reading text by meaning: the linear heads (exact values), the encoder, the seed model on texts
it never saw (traps included), and the `patronage text` commands as a user runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tasks.io.read_text_csv import TextFileError, read_text_csv
from tasks.transforms.text_classifier import LinearHead, TextModel, evaluate_intents
from tasks.transforms.text_encoder import EncoderUnavailable, SentenceEncoder, bundled_model_path

DATA = Path(__file__).parent / "data"
PATRONAGE = str(Path(sys.executable).with_name("patronage"))


def _toy_model(min_confidence: float = 0.5) -> TextModel:
    # Two-dimensional "embeddings": axis 0 means churn, axis 1 means praise.
    intent = LinearHead(
        ("churn_threat", "praise", "other"),
        np.array([[4.0, 0.0], [0.0, 4.0], [0.0, 0.0]], dtype=np.float32),
        np.zeros(3, dtype=np.float32),
    )
    sentiment = LinearHead(
        ("negative", "neutral", "positive"),
        np.array([[2.0, 0.0], [0.0, 0.0], [0.0, 2.0]], dtype=np.float32),
        np.zeros(3, dtype=np.float32),
    )
    return TextModel("toy", intent, sentiment, min_confidence, "toy")


def test_heads_give_intent_confidence_and_sentiment_exactly():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], dtype=np.float32)
    out = _toy_model().predict(x)
    e4 = np.exp(4.0)
    assert list(out["intent"]) == ["churn_threat", "praise", "other"]
    assert out["intent_confidence"].tolist() == pytest.approx(
        [round(e4 / (e4 + 2), 4)] * 2 + [round(1 / 3, 4)]
    )
    e2 = np.exp(2.0)
    assert out["sentiment"].tolist() == pytest.approx(
        [round(-(e2 - 1) / (e2 + 2), 4), round((e2 - 1) / (e2 + 2), 4), 0.0]
    )
    assert list(out["sentiment_label"]) == ["negative", "positive", "negative"]  # ties: first class


def test_low_confidence_says_other():
    x = np.array([[0.1, 0.0], [1.0, 0.0]], dtype=np.float32)  # confidences 0.43 and 0.96
    out = _toy_model(min_confidence=0.6).predict(x)
    assert list(out["intent"]) == ["other", "churn_threat"]


def test_model_round_trips_without_pickle(tmp_path):
    model = _toy_model()
    model.save(tmp_path / "m")
    loaded = TextModel.load(tmp_path / "m")
    x = np.array([[0.7, 0.2], [0.1, 0.9]], dtype=np.float32)
    pd.testing.assert_frame_equal(loaded.predict(x), model.predict(x))
    with pytest.raises(FileNotFoundError, match="model.json missing"):
        TextModel.load(tmp_path / "nothing")


def test_evaluation_counts_exactly():
    truth = pd.Series(["churn_threat", "churn_threat", "complaint", "other"])
    predicted = pd.Series(["churn_threat", "complaint", "complaint", "churn_threat"])
    scores, matrix = evaluate_intents(truth, predicted)
    churn = scores.set_index("intent").loc["churn_threat"]
    assert (churn["precision"], churn["recall"], churn["support"]) == (0.5, 0.5, 2)
    assert matrix.loc["churn_threat", "complaint"] == 1 and matrix.loc["other", "churn_threat"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"id,body\n1,x\n", "missing column(s) text; found id, body"),
        (b"id,text\n1,fine\n2,caf\xe9\n", "row 2 (line 3) is not UTF-8 text (byte 0xe9)"),
    ],
)
def test_bad_text_files_name_the_file_and_row(tmp_path, content, message):
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(TextFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_text_csv(path, ["id", "text"])


def test_a_damaged_model_file_is_refused():
    with pytest.raises(EncoderUnavailable, match="does not match the expected"):
        SentenceEncoder(bundled_model_path(), sha256="0" * 64)


def test_paraphrases_are_closer_than_unrelated_texts():
    encoder = SentenceEncoder()
    a, b, c = encoder.encode(
        [
            "How can I change my password?",
            "I forgot my login password",
            "The weather is lovely at the beach today",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.3
    assert np.allclose(
        np.linalg.norm(encoder.encode(["x", "a longer text here"]), axis=1), 1, atol=1e-5
    )


def test_the_seed_model_reads_texts_it_never_saw():
    from tasks.transforms.text_signals import classify_texts

    holdout = pd.read_csv(DATA / "text_holdout.csv")
    predicted = classify_texts(holdout["text"].tolist())
    scores, _ = evaluate_intents(holdout["intent"], predicted["intent"])
    churn = scores.set_index("intent").loc["churn_threat"]
    # Measured: churn_threat precision 1.0, recall 0.6 (3 of 5); 15 of 18 right overall.
    assert churn["recall"] >= 0.6 and churn["precision"] >= 0.75, scores
    assert (predicted["intent"] == holdout["intent"]).mean() >= 0.7, scores
    # The traps a cue list fell into: departures, lost cards, a wrong order.
    traps = holdout["text"].str.contains("train leaving|lost my wallet|five minutes ago")
    assert not (predicted.loc[traps, "intent"] == "churn_threat").any()


def _patronage(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PATRONAGE, "text", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_classify_train_evaluate_as_a_user_runs_them(tmp_path):
    rows = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "text": [
                "Closing my account and moving to your competitor.",
                "",
                "x" * 1_000_000,
                "Thanks, the refund came through quickly!",
            ],
        }
    )
    rows.to_csv(tmp_path / "in.csv", index=False)
    done = _patronage("classify", "in.csv", "-o", "out.csv", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert list(out.columns) == [
        "id",
        "intent",
        "intent_confidence",
        "sentiment",
        "sentiment_label",
    ]
    by_id = out.set_index("id")
    assert (
        by_id.loc["a", "intent"] == "churn_threat"
        and by_id.loc["a", "sentiment_label"] == "negative"
    )
    assert (by_id.loc["b", "intent"], by_id.loc["b", "intent_confidence"]) == ("other", 0.0)
    assert by_id.loc["d", "sentiment"] > 0.3
    assert out["sentiment"].between(-1, 1).all()

    # A company whose customers say "I'm out" about stock, not about leaving, teaches the model.
    phrase = "I'm out of the blue one, when is it back?"
    labelled = pd.DataFrame(
        {
            "text": [
                f"{w} {phrase}"
                for w in (
                    "Sorry,",
                    "Hi,",
                    "Hey",
                    "Hello,",
                    "Morning,",
                    "Yo",
                    "Also",
                    "Quick one:",
                    "So",
                    "Ok",
                )
            ]
            + ["Ending my contract, switching provider."] * 2,
            "intent": ["question"] * 10 + ["churn_threat"] * 2,
        }
    )
    labelled.to_csv(tmp_path / "labelled.csv", index=False)
    trained = _patronage("train", "labelled.csv", "-o", "acme-v1", cwd=tmp_path)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    pd.DataFrame({"id": ["q"], "text": [phrase]}).to_csv(tmp_path / "q.csv", index=False)
    assert (
        _patronage(
            "classify", "q.csv", "-o", "q-out.csv", "--model", "acme-v1", cwd=tmp_path
        ).returncode
        == 0
    )
    assert pd.read_csv(tmp_path / "q-out.csv").loc[0, "intent"] == "question"

    evaluated = _patronage("evaluate", "labelled.csv", "--model", "acme-v1", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    assert "precision" in evaluated.stdout and "confusion" in evaluated.stdout

    (tmp_path / "wrong.csv").write_text("text,intent\nhello,greeting\n")
    refused = _patronage("train", "wrong.csv", "-o", "x", cwd=tmp_path)
    assert refused.returncode == 2
    assert "wrong.csv: row 1: intent 'greeting' is not one of" in refused.stdout
    assert "Traceback" not in refused.stdout + refused.stderr
