"""``is_in``: the same answer as pandas' ``isin``, whatever the set is made of."""

import numpy as np
import pandas as pd
import pytest

from patronage.tasks.transforms.membership import is_in

TEXT = pd.Series(["C1", None, "C2", "C3", np.nan], index=[5, 6, 7, 8, 9], name="customer_id")


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        (set(), [False, False, False, False, False]),
        ({"C1"}, [True, False, False, False, False]),
        (["C1", None], [True, True, False, False, True]),
        ({"C2", 1, 2.5}, [False, False, True, False, False]),
        (pd.Series(["C3", "C1"]), [True, False, False, True, False]),
        (pd.Index(["C2"]), [False, False, True, False, False]),
        (pd.Series(["C3", None]), [False, True, False, True, True]),
        (np.array(["C1", np.nan], dtype=object), [True, True, False, False, True]),
        ({"C3": 1}.keys(), [False, False, False, True, False]),
        (iter(["C2"]), [False, False, True, False, False]),
    ],
    ids=[
        "empty",
        "set",
        "list-with-none",
        "mixed-types",
        "series",
        "index",
        "series-with-missing",
        "object-array",
        "dict-keys",
        "iterator",
    ],  # fmt: skip
)
def test_text_membership_matches_pandas(allowed, expected):
    found = is_in(TEXT, allowed)
    assert found.tolist() == expected
    assert found.index.tolist() == [5, 6, 7, 8, 9]
    assert found.name == "customer_id"
    if not isinstance(allowed, type(iter([]))):
        assert found.tolist() == TEXT.isin(allowed).tolist()


def test_index_gives_an_array_and_numbers_fall_back_to_pandas():
    assert is_in(pd.Index(["a", "b"]), {"b"}).tolist() == [False, True]
    assert is_in(pd.Series([1, 2, 3]), {2}).tolist() == [False, True, False]
    assert is_in(pd.Series([1, 2, 3]), iter([3])).tolist() == [False, False, True]
