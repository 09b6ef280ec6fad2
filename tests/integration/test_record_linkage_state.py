"""Record linkage's memory in the database: stored with the publish, read back equal, and
forgotten by a night that compared nothing."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np

from patronage.resources.database import PatronageDatabase, ensure_schema, make_engine
from patronage.tasks.io.identity_links import read_profile_linking, save_profile_linking
from patronage.tasks.transforms.linking.probable_links import ProfileLinking
from patronage.tasks.transforms.linking.record_linkage import LinkModel

MEMORY = ProfileLinking(
    LinkModel({"comparisons": [], "probability_two_random_records_match": 0.001},
              {"first_name": {"ann": 0.25, "bo": 0.5}}),
    "spec-1",
    date(2026, 10, 31),
    850,
    "compared-1",
    np.array([1, 5, 2**63 + 7], dtype=np.uint64),
    np.array([3], dtype=np.uint64),
)  # fmt: skip


def test_the_memory_is_read_back_as_stored_and_forgotten_when_nothing_was_compared(database_url):
    database = PatronageDatabase(url=database_url)
    assert read_profile_linking.fn(database) is None  # before the first publish
    engine = make_engine(database_url)
    ensure_schema(engine)
    with engine.begin() as conn:
        save_profile_linking(conn, MEMORY, "run-1", datetime(2026, 10, 31, 3))
    back = read_profile_linking.fn(database)
    assert back.model == MEMORY.model and back.model.version == MEMORY.model.version
    assert (back.spec, back.trained_as_of, back.trained_profiles, back.compared_under) == (
        "spec-1", date(2026, 10, 31), 850, "compared-1",
    )  # fmt: skip
    assert back.customers.tolist() == [1, 5, 2**63 + 7] and back.authors.tolist() == [3]
    with engine.begin() as conn:
        save_profile_linking(conn, None, "run-2", datetime(2026, 11, 1, 3))
    assert read_profile_linking.fn(database) is None
    engine.dispose()
