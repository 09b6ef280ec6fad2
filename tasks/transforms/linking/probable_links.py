"""The second identity step: social authors linked to customers by their profiles.

Authors whose handle no deterministic key knows are compared with CRM customers on display
name and location by a Fellegi–Sunter model (``link_records``). Output grain: one row per
linked author, keyed by ``identity_key`` (the author key), with the ``customer_id``, ``method``
``probabilistic`` and the ``match_probability``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection

import numpy as np
import pandas as pd

from patronage.tasks.transforms.linking.identity import (
    is_brand_handle,
    map_distinct,
    normalize_handle,
    normalize_person_name,
)
from patronage.tasks.transforms.linking.record_linkage import (
    FieldComparison,
    InsufficientTrainingData,
    link_records,
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
) -> pd.DataFrame:
    """Link authors that no known key identifies to customers, by name and location.

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
        memory_gb: Memory limit of the linking engine (``link_records``).

    Returns:
        ``identity_key``, ``customer_id``, ``method`` (``probabilistic``), ``match_probability``.
    """
    authors = author_profiles(social_posts, brand_handles)
    authors = authors[authors["full_name"].notna()]
    unknown = set(authors["unique_id"]) - set(known_keys["identity_key"])
    people = customer_profiles(customers)
    people = people[people["full_name"].notna()]
    if not unknown or people.empty:
        return pd.DataFrame(columns=LINK_COLUMNS)
    try:
        # The model learns from every author with a name, known ones included: after the first
        # night most authors are already linked, and the few new ones alone are too few to train
        # on. Only the unknown authors' links are kept, so earlier links never move.
        links = link_records(
            people,
            authors,
            PROFILE_COMPARISONS,
            PROFILE_BLOCKING,
            threshold=min(threshold, review_floor or threshold),
            seed=seed,
            training_blocking=PROFILE_TRAINING,
            prior_rules=PROFILE_PRIOR,
            prior_recall=PROFILE_PRIOR_RECALL,
            memory_gb=memory_gb,
        )
    except InsufficientTrainingData as exc:
        # Too little overlap to learn from is an ordinary night for a small shop: exact keys
        # and stored links still hold, the rest stay stakeholders until there is more to go on.
        logger.info(
            "No new probabilistic links this run (%d author(s) without a known key; "
            "%d known keys kept): %s",
            len(unknown),
            len(known_keys),
            exc,
        )
        return pd.DataFrame(columns=LINK_COLUMNS)
    links = links[links["id_right"].isin(unknown)]
    found = pd.DataFrame(
        {
            "identity_key": links["id_right"].astype(str),
            "customer_id": links["id_left"].astype(str),
            "method": np.where(
                links["match_probability"] >= threshold, "probabilistic", "candidate"
            ),
            "match_probability": links["match_probability"].astype(float),
        },
        columns=LINK_COLUMNS,
    )
    if review_floor is not None:
        # What a person deciding a near miss compares: both sides' names and places, looked
        # up for the near misses only (a join, not a lookup per row).
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
        found["compared"] = None
        found.loc[near, "compared"] = [
            json.dumps(
                {
                    "author_name": _text(an),
                    "author_city": _text(ac),
                    "customer_name": _text(cn),
                    "customer_city": _text(cc),
                }
            )
            for an, ac, cn, cc in zip(
                sides["an"], sides["ac"], sides["cn"], sides["cc"], strict=True
            )
        ]
    if overrides is not None and len(overrides):
        cannot = overrides[overrides["decision"] == "cannot_link"]
        blocked = set(zip(cannot["identity_key"], cannot["customer_id"], strict=True))
        found = found[
            [
                pair not in blocked
                for pair in zip(found["identity_key"], found["customer_id"], strict=True)
            ]
        ]
    return found.reset_index(drop=True)
