"""Probabilistic record linkage (Fellegi–Sunter) between any two tables, with Splink on DuckDB.

``link_records`` is public: give it two DataFrames and a comparison specification and it
returns scored links, so it can be run and evaluated on any pair of tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

ComparisonKind = Literal["exact", "name", "email", "jaro_winkler", "levenshtein"]


class InsufficientTrainingData(ValueError):
    """The two tables give the model nothing to learn from (e.g. no pair agrees on a training
    rule), so no link could be trusted."""


@dataclass(frozen=True)
class FieldComparison:
    """How one field is compared between the two tables.

    Attributes:
        field: Column present in both tables.
        kind: ``exact``; ``name`` (Splink's name comparison: exact, Jaro-Winkler levels, with
            term-frequency adjustment); ``email`` (exact, same user part, fuzzy); or a plain
            ``jaro_winkler`` / ``levenshtein`` ladder.
    """

    field: str
    kind: ComparisonKind = "exact"


def _splink():
    try:
        import splink
        import splink.comparison_library as cl
    except ImportError as exc:  # an optional backend: say what to install
        raise ImportError("record linkage needs Splink: pip install 'splink>=5,<6'") from exc
    return splink, cl


def _comparison(cl, spec: FieldComparison):
    if spec.kind == "exact":
        return cl.ExactMatch(spec.field)
    if spec.kind == "name":
        return cl.NameComparison(spec.field)
    if spec.kind == "email":
        return cl.EmailComparison(spec.field)
    if spec.kind == "jaro_winkler":
        return cl.JaroWinklerAtThresholds(spec.field, [0.92, 0.8])
    return cl.LevenshteinAtThresholds(spec.field, [1, 2])


def link_records(
    left: pd.DataFrame,
    right: pd.DataFrame,
    comparisons: list[FieldComparison],
    blocking: list[list[str]],
    threshold: float = 0.9,
    id_column: str = "unique_id",
    seed: int = 1,
    training_blocking: list[list[str]] | None = None,
    prior_rules: list[list[str]] | None = None,
    prior_recall: float = 0.8,
    memory_gb: float | None = None,
) -> pd.DataFrame:
    """Link ``right`` records to ``left`` records with a Fellegi–Sunter model.

    The model is trained on the data itself (no labels): the prior from the blocking rules,
    u-probabilities from random pairs, m-probabilities by expectation maximisation.

    Args:
        left: Records to link to (e.g. CRM customers), with ``id_column`` and the compared fields.
        right: Records to link (e.g. social authors), same columns.
        comparisons: Fields and how to compare them.
        blocking: Candidate pairs must agree exactly on all fields of at least one rule.
        threshold: Minimum match probability kept.
        id_column: Unique id column of both tables.
        seed: Seed of the random pair sampling, so runs are repeatable.
        training_blocking: Rules whose pairs train the m-probabilities by EM, one session per
            rule; each session learns the comparisons it does not block on. Defaults to
            ``blocking``. Give rules that mostly pair true matches (e.g. exact full name, then
            exact city): EM on a loose rule such as "same last name" learns "same family",
            not "same person".
        prior_rules: Deterministic rules whose pairs are nearly all true matches; they set the
            prior (the probability that two random records match), assuming they find
            ``prior_recall`` of all matches. Defaults to ``blocking``, which overstates the
            prior when blocking is loose and so links on weak evidence.
        prior_recall: Share of all true matches that ``prior_rules`` are believed to find.
        memory_gb: DuckDB's memory limit for the pairs (it spills to disk beyond it); None
            lets DuckDB take its default, 80 % of the machine (16 GB at a million customers).

    Raises:
        InsufficientTrainingData: No pair agrees on a prior or training rule.

    Returns:
        ``id_left``, ``id_right``, ``match_probability``: at most one (the best) left record per
        right record, only links at or above ``threshold``, sorted by ``id_right``.
    """
    splink, cl = _splink()
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    fields = [c.field for c in comparisons]
    training = training_blocking or blocking
    prior = prior_rules or blocking
    columns = list(
        dict.fromkeys(
            [id_column, *fields, *(f for rule in [*blocking, *training, *prior] for f in rule)]
        )
    )
    missing = sorted({f for f in columns if f not in left.columns or f not in right.columns})
    if missing:
        raise ValueError(f"link_records: column(s) {', '.join(missing)} must be in both tables")
    import os
    import tempfile

    import duckdb

    config = {"temp_directory": os.path.join(tempfile.gettempdir(), "patronage-linking")}
    if memory_gb is not None:
        config["memory_limit"] = f"{int(memory_gb * 1024)}MB"
    db = DuckDBAPI(connection=duckdb.connect(config=config))
    rules = [block_on(*rule) for rule in blocking]
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name=id_column,
        comparisons=[_comparison(cl, c) for c in comparisons],
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(
        [
            db.register(left[columns].astype(object), dataset_display_name="records_left"),
            db.register(right[columns].astype(object), dataset_display_name="records_right"),
        ],
        settings,
        log_level="ERROR",
    )
    from splink.internals.exceptions import EMTrainingException

    try:
        linker.training.estimate_probability_two_random_records_match(
            [block_on(*rule) for rule in prior], recall=prior_recall
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=2e5, seed=seed)
        for rule in training:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
    except (EMTrainingException, ValueError) as exc:  # ValueError: a prior of 0 (no agreeing pair)
        raise InsufficientTrainingData(
            f"link_records: {len(left)} x {len(right)} records are too few to train the model "
            f"({type(exc).__name__}); no pair agrees on a prior or training rule"
        ) from exc
    predictions = linker.inference.predict(
        threshold_match_probability=threshold
    ).as_pandas_dataframe()
    if predictions.empty:
        return pd.DataFrame(columns=["id_left", "id_right", "match_probability"])
    left_is_l = predictions["source_dataset_l"] == "records_left"
    links = pd.DataFrame(
        {
            "id_left": predictions[f"{id_column}_l"].where(
                left_is_l, predictions[f"{id_column}_r"]
            ),
            "id_right": predictions[f"{id_column}_r"].where(
                left_is_l, predictions[f"{id_column}_l"]
            ),
            "match_probability": predictions["match_probability"],
        }
    )
    links = links.sort_values(
        ["id_right", "match_probability", "id_left"], ascending=[True, False, True], kind="stable"
    )
    return links.drop_duplicates("id_right").reset_index(drop=True)
