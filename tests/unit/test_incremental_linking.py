"""probable_customer_links night after night: with the last night's memory, only new or
changed profiles are compared, and the links and near misses equal comparing everything with
the same model."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from faker import Faker

from patronage.tasks.transforms.linking.probable_links import (
    LINK_COLUMNS,
    ProbableLinks,
    probable_customer_links,
)

FIRST, SECOND = date(2026, 10, 31), date(2026, 11, 1)
SETTINGS = {"threshold": 0.98, "review_floor": 0.5}


@pytest.fixture(scope="module")
def company() -> tuple[pd.DataFrame, pd.DataFrame]:
    """400 customers; 300 of them post (every fifth with a typo, every fourth without a
    place), and 150 strangers post."""
    faker = Faker()
    faker.seed_instance(11)
    people = pd.DataFrame(
        {
            "name": [f"{faker.first_name()} {faker.last_name()}" for _ in range(550)],
            "city": [faker.city() for _ in range(550)],
        }
    )
    customers = people.iloc[:400].assign(customer_id=[f"C{i:03d}" for i in range(400)])
    authors = pd.concat([people.iloc[:300], people.iloc[400:]], ignore_index=True)
    authors.loc[authors.index[:300:5], "name"] = authors["name"].str[:-1]
    authors.loc[authors.index[1:300:4], "city"] = None
    posts = pd.DataFrame(
        {
            "post_id": [f"P{i}" for i in range(len(authors))],
            "platform": "twitter",
            "author_handle": [f"a{i}" for i in range(len(authors))],
            "author_display_name": authors["name"],
            "author_location": authors["city"],
            "posted_at": pd.Timestamp("2026-10-30"),
        }
    )
    return customers.reset_index(drop=True), posts


def _night(customers, posts, known, **kwargs) -> ProbableLinks:
    return probable_customer_links(customers, posts, known, **SETTINGS, **kwargs)


def _known(links: pd.DataFrame) -> pd.DataFrame:
    return links.loc[links["method"] == "probabilistic", LINK_COLUMNS].reset_index(drop=True)


def _candidates(links: pd.DataFrame) -> pd.DataFrame:
    return links.loc[links["method"] == "candidate"].reset_index(drop=True)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["identity_key", "customer_id"]).reset_index(drop=True)


def test_the_next_night_compares_only_what_changed_and_equals_comparing_everything(company):
    customers, posts = company
    first = _night(customers, posts, pd.DataFrame(columns=LINK_COLUMNS), as_of=FIRST)
    assert first.trained == "no model stored"
    links, near = _known(first.links), _candidates(first.links)
    assert len(near) >= 2, "the scenario needs near misses"

    # The next night: a stranger turns out to be a customer who joined; one near miss's
    # customer moved town; a person ruled out another near miss; one stranger moved town.
    stranger = posts.iloc[-1]
    joined = pd.DataFrame(
        {
            "customer_id": ["C900"],
            "name": [stranger["author_display_name"]],
            "city": [stranger["author_location"]],
        }
    )
    moved, ruled_out = near.iloc[0], near.iloc[1]
    customers2 = pd.concat([customers, joined], ignore_index=True)
    customers2.loc[customers2["customer_id"] == moved["customer_id"], "city"] = "Atlantis"
    posts2 = posts.copy()
    posts2.loc[len(posts2) - 2, "author_location"] = "Lemuria"
    overrides = pd.DataFrame(
        {
            "identity_key": [ruled_out["identity_key"]],
            "customer_id": [ruled_out["customer_id"]],
            "decision": ["cannot_link"],
        }
    )
    stored = near[["identity_key", "customer_id", "match_probability"]]
    second = _night(
        customers2, posts2, links, overrides=overrides, memory=first.memory,
        candidates=stored, as_of=SECOND,
    )  # fmt: skip
    everything = _night(
        customers2, posts2, links, overrides=overrides, memory=first.memory,
        candidates=stored, as_of=SECOND, compare_all=True,
    )  # fmt: skip

    unknown = everything.authors_compared
    assert second.trained == everything.trained == ""
    # The moved stranger, and the authors of the two near misses a change or a person touched.
    assert second.authors_compared == 3
    assert second.authors_kept == unknown - 3
    assert (second.customers_compared, everything.customers_compared) == (2, 401)
    pd.testing.assert_frame_equal(_sorted(second.links), _sorted(everything.links))
    assert (
        second.links.set_index("identity_key").at[f"twitter:a{len(posts) - 1}", "customer_id"]
        == "C900"
    )
    np.testing.assert_array_equal(second.memory.customers, everything.memory.customers)
    np.testing.assert_array_equal(second.memory.authors, everything.memory.authors)


def test_the_model_is_trained_again_on_its_schedule_and_when_the_profiles_grow(company):
    customers, posts = company
    first = _night(customers, posts, pd.DataFrame(columns=LINK_COLUMNS), as_of=FIRST)
    known = _known(first.links)
    later = _night(customers, posts, known, memory=first.memory, as_of=date(2026, 11, 28))
    assert later.trained == "older than 28 days"
    assert later.memory.trained_as_of == date(2026, 11, 28)
    grown = pd.concat(
        [customers, customers.iloc[:200].assign(customer_id=lambda f: f["customer_id"] + "b")]
    )
    assert _night(grown, posts, known, memory=first.memory, as_of=SECOND).trained == (
        "profiles changed by 24%"
    )
    same = _night(customers, posts, known, memory=first.memory, as_of=SECOND)
    assert same.trained == "" and same.memory.model == first.memory.model
    assert (same.authors_compared, same.customers_compared) == (0, 0)
