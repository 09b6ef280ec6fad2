"""link_records: Fellegi–Sunter linkage (Splink) on a generated pair of tables with known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from faker import Faker

from patronage.tasks.transforms.linking.record_linkage import FieldComparison, link_records

COMPARISONS = [
    FieldComparison("first", "name"),
    FieldComparison("last", "name"),
    FieldComparison("city", "exact"),
    FieldComparison("email", "email"),
]
BLOCKING = [["last"], ["email"], ["first", "city"]]


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    faker = Faker()
    faker.seed_instance(3)
    rng = np.random.default_rng(3)
    n, m = 400, 300
    people = pd.DataFrame(
        {
            "first": [faker.first_name() for _ in range(n)],
            "last": [faker.last_name() for _ in range(n)],
            "city": [faker.city() for _ in range(n)],
        }
    )
    people["email"] = (
        people["first"].str.lower()
        + "."
        + people["last"].str.lower()
        + "@"
        + rng.choice(["gmail.com", "mail.com"], n)
    )
    left = people.assign(unique_id=[f"C{i}" for i in range(n)])
    right = people.iloc[:m].copy().assign(unique_id=[f"A{i}" for i in range(m)])
    right.loc[right.index[::5], "first"] = right.loc[right.index[::5], "first"].str[:-1]  # typos
    right.loc[right.index[1::4], "city"] = None  # gaps
    strangers = pd.DataFrame(
        {
            "first": [faker.first_name() for _ in range(200)],
            "last": [faker.last_name() for _ in range(200)],
            "city": [faker.city() for _ in range(200)],
        }
    )
    strangers["email"] = (
        strangers["first"].str.lower() + strangers["last"].str.lower() + "@proton.me"
    )
    strangers["unique_id"] = [f"X{i}" for i in range(200)]
    # Same name as customer C5, but another person: other city, other address.
    namesake = pd.DataFrame(
        [
            {
                "first": left.at[5, "first"],
                "last": left.at[5, "last"],
                "city": "Elsewhere",
                "email": "someone.else@proton.me",
                "unique_id": "X_namesake",
            }
        ]
    )
    right = pd.concat([right, strangers, namesake], ignore_index=True)
    truth = {f"A{i}": f"C{i}" for i in range(m)}
    return left, right, truth


def test_precision_and_recall_on_known_truth(tables):
    left, right, truth = tables
    links = link_records(left, right, COMPARISONS, BLOCKING, threshold=0.9)
    correct = sum(
        truth.get(r) == c for c, r in zip(links["id_left"], links["id_right"], strict=True)
    )
    # Measured: 300 links, all correct — precision 1.00, recall 1.00 (60 with typos, 75 without city).
    assert correct / len(links) >= 0.98
    assert correct / len(truth) >= 0.90
    assert links["match_probability"].between(0.9, 1.0).all()


def test_a_namesake_is_not_linked_above_the_threshold(tables):
    left, right, _ = tables
    links = link_records(left, right, COMPARISONS, BLOCKING, threshold=0.9)
    assert "X_namesake" not in set(links["id_right"])
    assert not links["id_right"].str.startswith("X").any()


def test_missing_columns_are_named():
    frame = pd.DataFrame({"unique_id": ["1"], "first": ["a"]})
    with pytest.raises(ValueError, match=r"column\(s\) last must be in both tables"):
        link_records(frame, frame, [FieldComparison("last")], [["last"]])
