"""The second identity step: social authors linked to customers by their profiles.

Authors whose handle no deterministic key knows are compared with CRM customers on display
name and location by a Fellegi–Sunter model (``link_records``). Output grain: one row per
linked author, keyed by ``identity_key`` (the author key), with the ``customer_id``, ``method``
``probabilistic`` and the ``match_probability``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from patronage.config import IdentityConfig
from patronage.tasks.transforms.linking.identity import (
    is_brand_handle,
    map_distinct,
    normalize_handle,
    normalize_person_name,
)
from patronage.tasks.transforms.linking.record_linkage import (
    FieldComparison,
    InsufficientTrainingData,
    LinkModel,
    predict_links,
    train_link_model,
)
from patronage.tasks.transforms.membership import is_in
from patronage.tasks.transforms.validation.row_fingerprint import (
    hash_set,
    hash_version,
    row_hashes,
    seen_before,
)

logger = logging.getLogger(__name__)

PROFILE_COMPARISONS = [
    FieldComparison("first_name", "name"),
    FieldComparison("last_name", "name"),
    FieldComparison("city", "exact"),
]
# A link needs agreement on two of first name, last name and city, so only pairs agreeing on
# two of them are scored; pairs sharing just a surname would be millions at 1M customers.
PROFILE_BLOCKING = [["first_name", "last_name"], ["first_name", "city"], ["last_name", "city"]]
# Same full name mostly pairs one person with themself, so it teaches what a location agreement
# is worth; same city and one name teach what the other name's agreement is worth.
PROFILE_TRAINING = [["full_name"], ["city", "first_name"], ["city", "last_name"]]
# The prior: pairs with the same full name and city are nearly all one person; about one in
# six linkable authors shows no location, hence the recall.
PROFILE_PRIOR = [["full_name", "city"]]
PROFILE_PRIOR_RECALL = 0.85
LINK_COLUMNS = ["identity_key", "customer_id", "method", "match_probability"]
CANDIDATE_COLUMNS = ["identity_key", "customer_id", "match_probability"]
# The model is trained again after so many days, or when the profiles it would learn from
# grew or shrank by a share since it was (``IdentityConfig``, which says why; its defaults).
RETRAIN_AFTER_DAYS: int = IdentityConfig.model_fields["retrain_after_days"].default
RETRAIN_ON_GROWTH: float = IdentityConfig.model_fields["retrain_on_growth"].default


def _training_spec() -> str:
    """What a model is trained with: a model trained otherwise is trained again."""
    import splink

    spec = {
        "comparisons": [(c.field, c.kind) for c in PROFILE_COMPARISONS],
        "training": PROFILE_TRAINING,
        "prior": [PROFILE_PRIOR, PROFILE_PRIOR_RECALL],
        "splink": splink.__version__,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:32]


def comparison_version(model: LinkModel, threshold: float, review_floor: float | None) -> str:
    """What a comparison's outcome depends on besides the two profiles: the model, the
    blocking, the thresholds and how profiles are hashed."""
    spec = [model.version, PROFILE_BLOCKING, threshold, review_floor, hash_version()]
    return hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:32]


def profile_hashes(profiles: pd.DataFrame) -> np.ndarray:
    """A hash of each profile's key, name and place: a profile compared before under the same
    ``comparison_version`` need not be compared again."""
    return row_hashes(profiles[["unique_id", "full_name", "city"]])


@dataclass(frozen=True, repr=False)
class ProfileLinking:
    """What record linkage keeps from one night to the next.

    Attributes:
        model: The trained model (``train_link_model``).
        spec: ``_training_spec`` it was trained with.
        trained_as_of: The night it was trained.
        trained_profiles: Customers and authors it was trained on.
        compared_under: ``comparison_version`` the hashes below were compared under.
        customers: ``profile_hashes`` of every customer compared (every one with a name).
        authors: ``profile_hashes`` of the authors compared who were left without a known key.
    """

    model: LinkModel
    spec: str
    trained_as_of: date
    trained_profiles: int
    compared_under: str
    customers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    authors: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))

    def __repr__(self) -> str:
        return (
            f"ProfileLinking(trained {self.trained_as_of}, {len(self.customers)} customers, "
            f"{len(self.authors)} authors compared)"
        )


@dataclass(frozen=True)
class ProbableLinks:
    """One night of record linkage.

    Attributes:
        links: ``identity_key``, ``customer_id``, ``method`` (``probabilistic`` or
            ``candidate``), ``match_probability``, and ``compared`` for candidates.
        memory: What to store for the next night (None: nothing could be learnt).
        trained: Why the model was trained tonight ("" when the stored one was used).
        authors_compared: Unknown authors compared with every customer tonight.
        authors_kept: Unknown authors compared before, compared only with new customers.
        customers_compared: New or changed customers tonight (all, after training).
    """

    links: pd.DataFrame
    memory: ProfileLinking | None = None
    trained: str = ""
    authors_compared: int = 0
    authors_kept: int = 0
    customers_compared: int = 0

    def counts(self) -> dict[str, object]:
        return {
            "trained": self.trained,
            "authors_compared": self.authors_compared,
            "authors_kept": self.authors_kept,
            "customers_compared": self.customers_compared,
        }


def _training_reason(
    memory: ProfileLinking | None,
    as_of: date,
    profiles: int,
    retrain_after_days: int,
    retrain_on_growth: float,
) -> str:
    if memory is None:
        return "no model stored"
    if memory.spec != _training_spec():
        return "trained otherwise"
    if (as_of - memory.trained_as_of).days >= retrain_after_days:
        return f"older than {retrain_after_days} days"
    if (as_of - memory.trained_as_of).days < 0:
        return "trained for a later night"
    grown = abs(profiles - memory.trained_profiles) / max(memory.trained_profiles, 1)
    if grown > retrain_on_growth:
        return f"profiles changed by {grown:.0%}"
    return ""


def _first(full_name: object) -> str | None:
    tokens = full_name.split() if isinstance(full_name, str) else []
    return tokens[0] if tokens else None


def _last(full_name: object) -> str | None:
    tokens = full_name.split() if isinstance(full_name, str) else []
    return tokens[-1] if len(tokens) > 1 else None


def _profile(unique_id: pd.Series, name: pd.Series, city: pd.Series) -> pd.DataFrame:
    full_name = map_distinct(name, normalize_person_name)
    return pd.DataFrame(
        {
            "unique_id": unique_id.to_numpy(),
            "full_name": full_name.to_numpy(),
            "first_name": map_distinct(full_name, _first).to_numpy(),
            "last_name": map_distinct(full_name, _last).to_numpy(),
            "city": map_distinct(city, normalize_person_name).to_numpy(),
        }
    )


def customer_profiles(customers: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: ``unique_id`` (customer id), normalised names and city."""
    city = customers["city"] if "city" in customers else pd.Series(None, index=customers.index)
    return _profile(customers["customer_id"], customers["name"], city)


def author_profiles(
    social_posts: pd.DataFrame, brand_handles: Collection[str] = ()
) -> pd.DataFrame:
    """One row per social author but the company's own accounts: ``unique_id`` (author key), the latest display name and the
    latest location the author showed."""
    posts = social_posts.sort_values("posted_at", kind="stable")
    author_key = pd.Series(
        [
            normalize_handle(h, p)
            for h, p in zip(posts["author_handle"], posts["platform"], strict=True)
        ],
        index=posts.index,
    )
    location = (
        posts["author_location"]
        if "author_location" in posts
        else pd.Series(None, index=posts.index)
    )
    frame = pd.DataFrame(
        {"author_key": author_key, "name": posts["author_display_name"], "city": location}
    )
    brand = is_brand_handle(posts["author_handle"], brand_handles)
    latest = (
        frame[~brand & frame["author_key"].notna()].groupby("author_key", sort=True).agg("last")
    )
    return _profile(latest.index.to_series(), latest["name"], latest["city"])


def _text(value: object) -> str | None:
    """A profile field as text, None where it is missing (never NaN in JSON)."""
    return value if isinstance(value, str) and value else None


def probable_customer_links(
    customers: pd.DataFrame,
    social_posts: pd.DataFrame,
    known_keys: pd.DataFrame,
    overrides: pd.DataFrame | None = None,
    threshold: float = 0.9,
    seed: int = 1,
    brand_handles: Collection[str] = (),
    review_floor: float | None = None,
    memory_gb: float | None = None,
    memory: ProfileLinking | None = None,
    candidates: pd.DataFrame | None = None,
    as_of: date | None = None,
    compare_all: bool = False,
    retrain_after_days: int = RETRAIN_AFTER_DAYS,
    retrain_on_growth: float = RETRAIN_ON_GROWTH,
) -> ProbableLinks:
    """Link authors that no known key identifies to customers, by name and location.

    Night after night, only what is new is compared: with the ``memory`` of the last night
    (its model, and which profiles it compared), an unknown author compared before is compared
    only with customers new or changed since, and keeps last night's near miss; a new or
    changed author, one a person decided on, and one whose near miss changed, is compared with
    every customer. The result equals comparing everything with the same model (the model's
    term frequencies are frozen with it). The model is trained again on a schedule or when the
    profiles grew (``_training_reason``); then everything is compared.

    Args:
        customers: CRM customers (``customer_id``, ``name``, ``city``).
        social_posts: Posts (``author_handle``, ``platform``, ``author_display_name``,
            optional ``author_location``).
        known_keys: Keys already resolved (deterministic, manual or earlier runs' links); their
            authors are not linked again, which keeps identities stable.
        overrides: Manual decisions; a ``cannot_link`` pair is never produced (must-links are
            already among ``known_keys``).
        threshold: Minimum match probability of a link.
        seed: Seed of the model's random pair sampling.
        brand_handles: The company's own accounts, never linked to a customer.
        review_floor: Also return an author's best match at or above this but below
            ``threshold``, with method ``candidate`` and what a person would compare (both
            sides' normalised names and places, JSON in ``compared``), for a person to decide.
        memory_gb: Memory limit of the linking engine (``predict_links``).
        memory: What the last published night left (``ProbableLinks.memory``).
        candidates: The last published night's near misses (``identity_key``,
            ``customer_id``, ``match_probability``).
        as_of: Tonight (for the model's age); defaults to the day the model was trained.
        compare_all: Compare every unknown author with every customer, as if nothing had
            been compared before (a full refresh; the stored model is kept).
        retrain_after_days: Train again when the model is this old.
        retrain_on_growth: Train again when the profiles changed by more than this share.
    """
    authors = author_profiles(social_posts, brand_handles)
    authors = authors[authors["full_name"].notna()].reset_index(drop=True)
    people = customer_profiles(customers)
    people = people[people["full_name"].notna()].reset_index(drop=True)
    known = is_in(authors["unique_id"], known_keys["identity_key"])
    unknown = authors[~known.to_numpy()]
    unknown = unknown.reset_index(drop=True)
    if unknown.empty or people.empty:
        return ProbableLinks(pd.DataFrame(columns=LINK_COLUMNS), _forget_authors(memory))
    floor = min(threshold, review_floor or threshold)
    as_of = as_of or (memory.trained_as_of if memory else date.today())
    reason = _training_reason(
        memory, as_of, len(people) + len(authors), retrain_after_days, retrain_on_growth
    )
    if reason:
        try:
            # The model learns from every author with a name, known ones included: after the
            # first night most authors are already linked, and the few new ones alone are too
            # few to train on. Only the unknown authors' links are kept, so earlier links never
            # move.
            model = train_link_model(
                people, authors, PROFILE_COMPARISONS, PROFILE_BLOCKING, seed=seed,
                training_blocking=PROFILE_TRAINING, prior_rules=PROFILE_PRIOR,
                prior_recall=PROFILE_PRIOR_RECALL, memory_gb=memory_gb,
            )  # fmt: skip
        except InsufficientTrainingData as exc:
            # Too little overlap to learn from is an ordinary night for a small shop: exact
            # keys and stored links still hold, the rest stay stakeholders until there is more.
            logger.info(
                "No new probabilistic links this run (%d author(s) without a known key; "
                "%d known keys kept): %s",
                len(unknown),
                len(known_keys),
                exc,
            )
            return ProbableLinks(pd.DataFrame(columns=LINK_COLUMNS))
        memory = ProfileLinking(
            model, _training_spec(), as_of, len(people) + len(authors),
            comparison_version(model, threshold, review_floor),
        )  # fmt: skip
    assert memory is not None
    version = comparison_version(memory.model, threshold, review_floor)
    people_hashes, author_hashes = profile_hashes(people), profile_hashes(unknown)
    same = memory.compared_under == version and not reason and not compare_all
    # Scopes (pairs whose scopes add up to 2 are compared): customers compared before 0, new
    # or changed ones 1; unknown authors compared before 1, the others 2.
    people["link_scope"] = np.where(same & seen_before(people_hashes, memory.customers), 0, 1)
    unknown["link_scope"] = np.where(same & seen_before(author_hashes, memory.authors), 1, 2)
    previous = candidates if same else None
    # A person's decision, or a near miss whose customer changed or left, sends the author
    # back to be compared with everyone: the next best match may be among the unchanged.
    decided = set(overrides["identity_key"]) if overrides is not None and len(overrides) else set()
    lost = set() if previous is None else set(previous["identity_key"])
    lost -= set(_kept_candidates(previous, people, unknown)["identity_key"])
    again = is_in(unknown["unique_id"], decided | lost) & (unknown["link_scope"] == 1)
    unknown.loc[again, "link_scope"] = 2
    kept = _kept_candidates(previous, people, unknown)
    scored = predict_links(
        people, unknown, memory.model, PROFILE_BLOCKING, floor, scope_column="link_scope",
        memory_gb=memory_gb,
    )  # fmt: skip
    pairs = pd.concat(
        [
            scored,
            kept.rename(columns={"identity_key": "id_right", "customer_id": "id_left"})[
                ["id_left", "id_right", "match_probability"]
            ],
        ],
        ignore_index=True,
    )
    if overrides is not None and len(overrides):
        cannot = overrides[overrides["decision"] == "cannot_link"]
        blocked = set(zip(cannot["identity_key"], cannot["customer_id"], strict=True))
        pairs = pairs[
            [pair not in blocked for pair in zip(pairs["id_right"], pairs["id_left"], strict=True)]
        ]
    best = pairs.sort_values(
        ["id_right", "match_probability", "id_left"], ascending=[True, False, True], kind="stable"
    ).drop_duplicates("id_right")
    found = pd.DataFrame(
        {
            "identity_key": best["id_right"].astype(str),
            "customer_id": best["id_left"].astype(str),
            "method": np.where(
                best["match_probability"] >= threshold, "probabilistic", "candidate"
            ),
            "match_probability": best["match_probability"].astype(float),
        },
        columns=LINK_COLUMNS,
    ).reset_index(drop=True)
    if review_floor is not None:
        found["compared"] = _compared(found, unknown, people)
    linked = set(found.loc[found["method"] == "probabilistic", "identity_key"])
    still_unknown = ~is_in(unknown["unique_id"], linked).to_numpy()
    memory = ProfileLinking(
        memory.model, memory.spec, memory.trained_as_of, memory.trained_profiles, version,
        hash_set(people_hashes), hash_set(author_hashes[still_unknown]),
    )  # fmt: skip
    return ProbableLinks(
        found,
        memory,
        reason,
        authors_compared=int((unknown["link_scope"] == 2).sum()),
        authors_kept=int((unknown["link_scope"] == 1).sum()),
        customers_compared=int((people["link_scope"] == 1).sum()),
    )


def _forget_authors(memory: ProfileLinking | None) -> ProfileLinking | None:
    """``memory`` after a night with no unknown author compared: any unknown author of a later
    night is compared with every customer."""
    if memory is None:
        return None
    return ProfileLinking(
        memory.model, memory.spec, memory.trained_as_of, memory.trained_profiles,
        memory.compared_under, memory.customers, np.zeros(0, np.uint64),
    )  # fmt: skip


def _kept_candidates(
    candidates: pd.DataFrame | None, people: pd.DataFrame, unknown: pd.DataFrame
) -> pd.DataFrame:
    """Last night's near misses that still hold: both profiles unchanged (author scope 1,
    customer scope 0)."""
    if candidates is None or candidates.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    unchanged_people = people.loc[people["link_scope"] == 0, "unique_id"]
    unchanged_authors = unknown.loc[unknown["link_scope"] == 1, "unique_id"]
    keep = is_in(candidates["customer_id"], unchanged_people) & is_in(
        candidates["identity_key"], unchanged_authors
    )
    return candidates.loc[keep, CANDIDATE_COLUMNS].reset_index(drop=True)


def _compared(found: pd.DataFrame, authors: pd.DataFrame, people: pd.DataFrame) -> pd.Series:
    """What a person deciding a near miss compares: both sides' names and places, looked up
    for the near misses only (a join, not a lookup per row); None for links."""
    near = found["method"] == "candidate"
    sides = (
        found.loc[near, ["identity_key", "customer_id"]]
        .merge(
            authors[["unique_id", "full_name", "city"]].rename(
                columns={"unique_id": "identity_key", "full_name": "an", "city": "ac"}
            ),
            on="identity_key",
            how="left",
        )
        .merge(
            people[["unique_id", "full_name", "city"]].rename(
                columns={"unique_id": "customer_id", "full_name": "cn", "city": "cc"}
            ),
            on="customer_id",
            how="left",
        )
    )
    compared = pd.Series(None, index=found.index, dtype=object)
    compared[near] = [
        json.dumps(
            {
                "author_name": _text(an),
                "author_city": _text(ac),
                "customer_name": _text(cn),
                "customer_city": _text(cc),
            }
        )
        for an, ac, cn, cc in zip(sides["an"], sides["ac"], sides["cn"], sides["cc"], strict=True)
    ]
    return compared
