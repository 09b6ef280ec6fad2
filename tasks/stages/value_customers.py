"""Score stage: every customer's value, P(alive) and triggers, against the previous run's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from patronage.config import TriggerConfig, ValueModelConfig
from patronage.resources.database import PatronageDatabase
from patronage.tasks.io.previous_scores import read_previous_scores
from patronage.tasks.io.value_fit import read_value_fit
from patronage.tasks.stages.score_customers import score_customers


@dataclass(repr=False)
class Scored:
    """One row per customer with value scores (``scores``) and the fitted model's parameters."""

    scores: pd.DataFrame
    model: dict

    @property
    def rows(self) -> int:
        return len(self.scores)

    def __repr__(self) -> str:
        return f"Scored({self.rows} customers)"


def value_customers(
    valid: dict[str, pd.DataFrame],
    as_of: date,
    database: PatronageDatabase,
    value_model: ValueModelConfig,
    triggers: TriggerConfig,
) -> Scored:
    """Fit the value models (or reuse the stored fit while it is not due) and score every
    customer; alive-drops compare with the last run."""
    scores, model = score_customers(
        valid["customers"],
        valid["orders"],
        as_of,
        value_model,
        triggers,
        read_previous_scores(database),
        read_value_fit(database),
    )
    return Scored(scores, model)
