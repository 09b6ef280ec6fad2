"""What a data contract is: grain, keys, typed columns and a Great Expectations suite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import great_expectations as gx
import pandas as pd

ColumnType = Literal["str", "float", "int", "timestamp", "date"]


@dataclass(frozen=True)
class DatasetContract:
    """The contract one staged dataset must meet before anything downstream may use it.

    Attributes:
        name: Dataset name, e.g. ``orders``.
        grain: One row per what, in words.
        keys: Columns that identify a row (unique, not null).
        columns: Every staged column and its type; a missing column breaches the contract
            unless it is listed in ``optional``.
        required: Columns that must be present and non-null in every row.
        build_expectations: Returns the row- and table-level expectations beyond keys and types.
        references: ``{column: (dataset, column)}`` that must resolve (e.g. orders → customers).
        timestamp_column: Column checked for future dates and freshness.
        max_reject_share: Share of rows that may be quarantined before the contract is breached.
        freshness_days: Newest record must be at most this old at the as-of date (None: no check).
        optional: Columns a source may not have at all (added as empty when staged), so that
            newer fields do not break older exports.
    """

    name: str
    grain: str
    keys: tuple[str, ...]
    columns: dict[str, ColumnType]
    required: tuple[str, ...]
    build_expectations: Callable[[], list[gx.expectations.Expectation]] = lambda: []
    references: dict[str, tuple[str, str]] = field(default_factory=dict)
    timestamp_column: str | None = None
    max_reject_share: float = 0.05
    freshness_days: int | None = None
    optional: tuple[str, ...] = ()

    def row_keys(self, frame: pd.DataFrame) -> pd.Series:
        """Each row's key columns joined with ``|`` ("" for a missing part): the row's identity."""
        parts = [frame[k].astype("string").fillna("") for k in self.keys]
        if not parts:
            return pd.Series("", index=frame.index, dtype="string")
        return parts[0].str.cat(parts[1:], sep="|") if len(parts) > 1 else parts[0]

    def build_suite(self) -> gx.ExpectationSuite:
        """The full Great Expectations suite: columns exist, keys unique and present, the rest."""
        suite = gx.ExpectationSuite(
            name=f"patronage.{self.name}",
            meta={
                "grain": self.grain,
                "keys": list(self.keys),
                "references": {c: ".".join(r) for c, r in self.references.items()},
                "max_reject_share": self.max_reject_share,
                "freshness_days": self.freshness_days,
            },
        )
        suite.add_expectation(gx.expectations.ExpectTableRowCountToBeBetween(min_value=1))
        for column in self.columns:
            if column not in self.optional:
                suite.add_expectation(gx.expectations.ExpectColumnToExist(column=column))
        for column in self.required:
            suite.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(column=column))
        for key in self.keys:
            suite.add_expectation(gx.expectations.ExpectColumnValuesToBeUnique(column=key))
        for expectation in self.build_expectations():
            suite.add_expectation(expectation)
        return suite
