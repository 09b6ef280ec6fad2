"""The value models' fit the last published night used (``model_runs``)."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from patronage.resources.database import PatronageDatabase
from patronage.schemas.tables import model_runs
from patronage.tasks.transforms.value.bgnbd import BgNbdParams
from patronage.tasks.transforms.value.gamma_gamma import GammaGammaParams
from patronage.tasks.transforms.value.value_refit import StoredFit

_COLUMNS = [
    "as_of", "fitted_as_of", "bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b",
    "bgnbd_log_likelihood", "bgnbd_method", "n_customers", "gamma_gamma_p", "gamma_gamma_q",
    "gamma_gamma_v", "gamma_gamma_log_likelihood", "gamma_gamma_method", "n_repeat_customers",
]  # fmt: skip


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def read_value_fit(database: PatronageDatabase) -> StoredFit | None:
    """The last published night's value-model parameters, or None before the first publish."""
    query = (
        select(*(model_runs.c[c] for c in _COLUMNS))
        .order_by(model_runs.c.created_at.desc())
        .limit(1)
    )
    rows = database.read_if_published(model_runs.name, query, _COLUMNS)
    if rows.empty:
        return None
    row = rows.iloc[0]
    if any(pd.isna(row[c]) for c in _COLUMNS[2:7] + _COLUMNS[9:13]):
        return None  # a night whose fit failed outright stored no parameters
    return StoredFit(
        BgNbdParams(
            float(row["bgnbd_r"]), float(row["bgnbd_alpha"]), float(row["bgnbd_a"]),
            float(row["bgnbd_b"]), float(row["bgnbd_log_likelihood"]), int(row["n_customers"]),
            True, str(row["bgnbd_method"]),
        ),
        GammaGammaParams(
            float(row["gamma_gamma_p"]), float(row["gamma_gamma_q"]),
            float(row["gamma_gamma_v"]), float(row["gamma_gamma_log_likelihood"]),
            int(row["n_repeat_customers"]), True, str(row["gamma_gamma_method"]),
        ),
        # Rows from before 0011 have no fit date: their own night's.
        row["as_of"] if pd.isna(row["fitted_as_of"]) else row["fitted_as_of"],
    )  # fmt: skip
