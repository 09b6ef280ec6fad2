"""Probabilistic record linkage (Fellegi–Sunter) between any two tables, with Splink on DuckDB.

``link_records`` is public: give it two DataFrames and a comparison specification and it
returns scored links, so it can be run and evaluated on any pair of tables. Its two halves
are public too, for linking night after night: ``train_link_model`` learns a ``LinkModel``
(Splink's parameters and the term frequencies they were learnt with), which can be stored;
``predict_links`` applies a model, optionally only to pairs a ``scope`` column marks as new.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class LinkModel:
    """A trained Fellegi–Sunter model, everything needed to score pairs again later.

    Attributes:
        settings: Splink's model (``save_model_to_json``): comparisons with their m and u
            probabilities, the prior.
        term_frequencies: Per term-frequency column, each value's share of the records the
            model was trained on. Scoring tonight's pairs with these, not with tonight's
            shares, gives a pair the probability it got the night it was first compared.
            Only values shared by ``min_term_count`` records or more are kept (a rarer value
            is scored without adjustment): frequencies of common names identify nobody.
    """

    settings: dict
    term_frequencies: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"settings": self.settings, "term_frequencies": self.term_frequencies},
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> LinkModel:
        data = json.loads(text)
        return cls(data["settings"], data.get("term_frequencies", {}))

    @property
    def version(self) -> str:
        """Identifies the model's parameters: a pair scored under one version scores the same
        under it again."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:32]


def _columns(
    left: pd.DataFrame, right: pd.DataFrame, id_column: str, *groups: list[str]
) -> list[str]:
    columns = list(dict.fromkeys([id_column, *(f for group in groups for f in group)]))
    missing = sorted({f for f in columns if f not in left.columns or f not in right.columns})
    if missing:
        raise ValueError(f"link_records: column(s) {', '.join(missing)} must be in both tables")
    return columns


def _database(memory_gb: float | None):
    import duckdb
    from splink import DuckDBAPI

    config = {"temp_directory": os.path.join(tempfile.gettempdir(), "patronage-linking")}
    if memory_gb is not None:
        config["memory_limit"] = f"{int(memory_gb * 1024)}MB"
    return DuckDBAPI(connection=duckdb.connect(config=config))


def _linker(db, left: pd.DataFrame, right: pd.DataFrame, columns: list[str], settings):
    from splink import Linker

    return Linker(
        [
            db.register(left[columns].astype(object), dataset_display_name="records_left"),
            db.register(right[columns].astype(object), dataset_display_name="records_right"),
        ],
        settings,
        log_level="ERROR",
    )


def train_link_model(
    left: pd.DataFrame,
    right: pd.DataFrame,
    comparisons: list[FieldComparison],
    blocking: list[list[str]],
    id_column: str = "unique_id",
    seed: int = 1,
    training_blocking: list[list[str]] | None = None,
    prior_rules: list[list[str]] | None = None,
    prior_recall: float = 0.8,
    memory_gb: float | None = None,
    min_term_count: int = 5,
) -> LinkModel:
    """Learn a Fellegi–Sunter model from the two tables themselves (no labels): the prior
    from ``prior_rules``, u-probabilities from random pairs, m-probabilities by expectation
    maximisation, one session per ``training_blocking`` rule. Arguments as ``link_records``;
    ``min_term_count``: see ``LinkModel.term_frequencies``.

    Raises:
        InsufficientTrainingData: No pair agrees on a prior or training rule.
    """
    _, cl = _splink()
    from splink import SettingsCreator, block_on
    from splink.internals.exceptions import EMTrainingException

    training = training_blocking or blocking
    prior = prior_rules or blocking
    fields = [c.field for c in comparisons]
    columns = _columns(left, right, id_column, fields, *blocking, *training, *prior)
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name=id_column,
        comparisons=[_comparison(cl, c) for c in comparisons],
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in blocking],
        retain_intermediate_calculation_columns=False,
    )
    linker = _linker(_database(memory_gb), left, right, columns, settings)
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
    model = linker.misc.save_model_to_json()
    frequencies: dict[str, dict[str, float]] = {}
    for column in _term_frequency_columns(model):
        shares = linker.table_management.compute_tf_table(column).as_pandas_dataframe()
        counts = pd.concat([left[column], right[column]]).value_counts()
        common = set(counts.index[counts >= min_term_count])
        frequencies[column] = {
            str(value): float(share)
            for value, share in zip(shares[column], shares[f"tf_{column}"], strict=True)
            if value in common
        }
    return LinkModel(model, frequencies)


def _term_frequency_columns(settings: dict) -> list[str]:
    return sorted(
        {
            level["tf_adjustment_column"]
            for comparison in settings.get("comparisons", [])
            for level in comparison.get("comparison_levels", [])
            if level.get("tf_adjustment_column")
        }
    )


def _scoped_rule(rule: list[str], scope_column: str | None) -> str:
    sql = " and ".join(f'l."{f}" = r."{f}"' for f in rule)
    if scope_column:
        # Only pairs where the scopes add up to 2 are compared (see ``predict_links``).
        sql += f' and l."{scope_column}" + r."{scope_column}" >= 2'
    return sql


def predict_links(
    left: pd.DataFrame,
    right: pd.DataFrame,
    model: LinkModel,
    blocking: list[list[str]],
    threshold: float = 0.9,
    id_column: str = "unique_id",
    scope_column: str | None = None,
    memory_gb: float | None = None,
) -> pd.DataFrame:
    """Score the pairs that agree on a ``blocking`` rule with a trained ``model``.

    Args:
        left: Records to link to, with ``id_column``, the model's fields and ``scope_column``.
        right: Records to link, same columns.
        model: From ``train_link_model`` (or stored from an earlier night).
        blocking: Candidate pairs must agree exactly on all fields of at least one rule.
        threshold: Minimum match probability kept.
        id_column: Unique id column of both tables.
        scope_column: An integer column of both tables; only pairs whose two scopes add up to
            2 or more are compared. E.g. records compared on an earlier night 0 on the left
            and 1 on the right, new ones 1 and 2: new pairs are compared, old ones are not.
        memory_gb: DuckDB's memory limit for the pairs (it spills to disk beyond it).

    Returns:
        ``id_left``, ``id_right``, ``match_probability`` of every pair at or above
        ``threshold``, best first for each ``id_right`` (ties: lowest ``id_left``).
    """
    _splink()
    fields = sorted({column for comparison in model.settings["comparisons"] for column in
                     _comparison_columns(comparison)})  # fmt: skip
    scope = [scope_column] if scope_column else []
    columns = _columns(left, right, id_column, fields, *blocking, scope)
    settings = json.loads(json.dumps(model.settings))
    settings["blocking_rules_to_generate_predictions"] = [
        _scoped_rule(rule, scope_column) for rule in blocking
    ]
    settings["additional_columns_to_retain"] = scope
    settings["retain_intermediate_calculation_columns"] = False
    db = _database(memory_gb)
    linker = _linker(db, left, right, columns, settings)
    for column in _term_frequency_columns(settings):
        shares = model.term_frequencies.get(column, {})
        lookup = pd.DataFrame(
            {
                column: pd.Series(list(shares), dtype="string"),
                f"tf_{column}": pd.Series(list(shares.values()), dtype="float64"),
            }
        )
        linker.table_management.register_term_frequency_lookup(
            db.register(lookup, table_name=f"patronage_tf_{column}"), column
        )
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
    return links.sort_values(
        ["id_right", "match_probability", "id_left"], ascending=[True, False, True], kind="stable"
    ).reset_index(drop=True)


def _comparison_columns(comparison: dict) -> set[str]:
    """The input columns one of Splink's saved comparisons reads."""
    name = comparison.get("output_column_name", "")
    return {name} if name else set()


def best_links(links: pd.DataFrame) -> pd.DataFrame:
    """The best ``id_left`` for each ``id_right`` of ``predict_links``' output."""
    return links.drop_duplicates("id_right").reset_index(drop=True)


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
    model = train_link_model(
        left, right, comparisons, blocking, id_column, seed, training_blocking, prior_rules,
        prior_recall, memory_gb,
    )  # fmt: skip
    return best_links(
        predict_links(left, right, model, blocking, threshold, id_column, memory_gb=memory_gb)
    )
