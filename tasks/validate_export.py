"""Stage and validate one raw export against its contract (a Prefect task per dataset)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from prefect import get_run_logger, task

from schemas.contracts import CONTRACTS
from tasks.transforms.stage_dataset import stage_dataset
from tasks.transforms.validate_dataset import DatasetValidation, validate_dataset


def quarantined_rows(raw: pd.DataFrame, validation: DatasetValidation, source: str) -> pd.DataFrame:
    """The rejected rows as they arrived, with their reasons: what goes to quarantine."""
    rejected = validation.rejected
    return pd.DataFrame({
        "dataset": validation.dataset,
        "source": source,
        "row_key": rejected["row_key"].to_numpy(),
        "reasons": rejected["reasons"].to_numpy(),
        "raw_row": [raw.loc[idx].to_dict() for idx in rejected["row_index"]],
    })


@task(task_run_name="validate-{dataset}")
def validate_export(dataset: str, raw: pd.DataFrame, source: str, as_of: date,
                    reference_keys: dict[str, set[str]], max_reject_share: float
                    ) -> tuple[DatasetValidation, pd.DataFrame]:
    """Cast and validate ``raw``; returns the validation and its quarantine rows."""
    contract = CONTRACTS[dataset]
    validation = validate_dataset(stage_dataset(raw, contract), contract, as_of,
                                  reference_keys, max_reject_share)
    get_run_logger().info("%s: %d rows valid, %d quarantined, %d breach(es)", dataset,
                          len(validation.valid), len(validation.rejected), len(validation.breaches))
    return validation, quarantined_rows(raw, validation, source)
