"""Fit a company text model and judge it against the model in use on labels it never saw.

A model is promoted only when it reads the company's held-out labels at least as well as the
model in use (macro-F1 over the intents present): labels typed in a hurry, or a seed set that
drifted, must not silently make the retention queue worse.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from patronage.tasks.transforms.text.text_classifier import (
    TextModel,
    evaluate_intents,
    fit_text_model,
)

# Share of the company's labelled rows held out to judge a new model (never trained on when
# judging; the promoted model is then refitted on every row).
HOLDOUT_SHARE = 0.2
# Fewer held-out rows than this cannot tell two models apart: promotion is then not judged.
MIN_HOLDOUT_ROWS = 10


@dataclass(frozen=True)
class Judgement:
    """How a candidate compares with the model in use on the held-out rows."""

    holdout_rows: int
    candidate_macro_f1: float | None
    in_use_macro_f1: float | None

    @property
    def judged(self) -> bool:
        return self.candidate_macro_f1 is not None and self.in_use_macro_f1 is not None

    @property
    def better_or_equal(self) -> bool:
        """True when not judged (nothing to compare on) or the candidate is not worse."""
        if not self.judged:
            return True
        return self.candidate_macro_f1 >= self.in_use_macro_f1  # type: ignore[operator]


def holdout_mask(labels: pd.Series, share: float = HOLDOUT_SHARE, seed: int = 0) -> np.ndarray:
    """Rows to hold out: ``share`` of each intent with at least two rows, chosen at random."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), dtype=bool)
    positions = pd.Series(np.arange(len(labels)), index=labels.index)
    for _, rows in positions.groupby(labels.to_numpy()):
        if len(rows) < 2:
            continue
        take = max(1, int(round(len(rows) * share)))
        mask[rng.choice(rows.to_numpy(), take, replace=False)] = True
    return mask


def macro_f1(model: TextModel, x: np.ndarray, truth: pd.Series) -> float:
    """Mean F1 over the intents in ``truth`` or predicted."""
    scores, _ = evaluate_intents(truth.reset_index(drop=True), model.predict(x)["intent"])
    return round(float(scores["f1"].mean()), 4)


def model_version(model: TextModel, created: str) -> str:
    """``<created>-<hash>``: when it was fitted and a digest of its weights."""
    digest = hashlib.sha256(model.intent.weights.tobytes() + model.intent.bias.tobytes())
    return f"{created}-{digest.hexdigest()[:8]}"


def train_and_judge(
    x_company: np.ndarray,
    company: pd.DataFrame,
    x_extra: np.ndarray,
    extra: pd.DataFrame,
    in_use: TextModel,
    encoder_id: str,
    created: str,
) -> tuple[TextModel, Judgement]:
    """Fit on ``company`` (+ ``extra`` rows, e.g. the seed set) and judge against ``in_use``.

    The candidate is first fitted without a held-out share of ``company`` and both models are
    scored on that share; the returned model is then fitted on every row.

    Args:
        x_company: Vectors of ``company``'s texts.
        company: The company's labelled rows (``intent``, optional ``sentiment``).
        x_extra: Vectors of ``extra``'s texts.
        extra: Rows always trained on and never held out (the seed set); may be empty.
        in_use: The model the nightly uses today.
        encoder_id: The encoder the vectors come from.
        created: Timestamp text for the version (``YYYYMMDDTHHMMSS``).
    """
    held = holdout_mask(company["intent"])
    judgement = Judgement(int(held.sum()), None, None)
    if held.sum() >= MIN_HOLDOUT_ROWS:
        train_rows = pd.concat([company[~held], extra], ignore_index=True)
        x_train = np.vstack([x_company[~held], x_extra])
        if train_rows["intent"].nunique() >= 2:
            candidate = fit_text_model(x_train, train_rows, encoder_id, "candidate")
            truth = company.loc[held, "intent"]
            judgement = Judgement(
                int(held.sum()),
                macro_f1(candidate, x_company[held], truth),
                macro_f1(in_use, x_company[held], truth),
            )
    rows = pd.concat([company, extra], ignore_index=True)
    model = fit_text_model(np.vstack([x_company, x_extra]), rows, encoder_id, "pending")
    model.version = model_version(model, created)
    return model, judgement
