"""Degrees of social interaction per thread and engagement levels per person, on tiny threads."""

import pandas as pd

from patronage.tasks.transforms.conversations.engagement_level import engagement_levels
from patronage.tasks.transforms.conversations.interaction_degree import (
    interaction_degrees,
    thread_ids,
)


def thread(rows: list[tuple]) -> pd.DataFrame:
    """rows: (conversation_id, reply_to_id, author_key, minute, intent)."""
    frame = pd.DataFrame(
        rows, columns=["conversation_id", "reply_to_id", "author_key", "minute", "intent"]
    )
    return frame.assign(
        is_brand=frame["author_key"] == "brand",
        occurred_at=pd.Timestamp("2026-10-01") + pd.to_timedelta(frame["minute"], unit="m"),
    )


CASES = {
    "monologue": [("a1", None, "ann", 0, "other")],
    "venting": [("b1", None, "bob", 0, "complaint")],
    "skewed": [("c1", None, "cat", 0, "question"), ("c2", "c1", "brand", 5, "other")],
    "social_pressure": [("d1", None, "dan", 0, "complaint"), ("d2", "d1", "dan", 60, "complaint")],
    "objective": [
        ("e1", None, "eve", 0, "question"),
        ("e2", "e1", "brand", 5, "other"),
        ("e3", "e2", "eve", 9, "praise"),
    ],
    "community": [
        ("f1", None, "fay", 0, "suggestion"),
        ("f2", "f1", "gus", 3, "praise"),
        ("f3", "f2", "hal", 4, "other"),
        ("f4", "f1", "fay", 8, "other"),
    ],
}


def test_each_degree_from_a_hand_written_thread():
    frames = pd.concat([thread(rows) for rows in CASES.values()], ignore_index=True)
    got = interaction_degrees(frames).set_index("thread_id")["interaction_degree"].to_dict()
    assert got == {
        "a1": "monologue",
        "b1": "venting",
        "c1": "skewed",
        "d1": "social_pressure",
        "e1": "objective",
        "f1": "community",
    }


def test_others_joining_an_unanswered_complaint_is_social_pressure():
    frame = thread([("g1", None, "ida", 0, "complaint"), ("g2", "g1", "jon", 2, "other")])
    assert interaction_degrees(frame)["interaction_degree"].tolist() == ["social_pressure"]


def test_no_conversations_no_threads():
    empty = thread([]).astype({"is_brand": bool, "occurred_at": "datetime64[ns]"})
    threads = interaction_degrees(empty)
    assert threads.empty
    assert list(threads.columns) == [
        "thread_id", "n_items", "participants", "company_replied", "starter_follow_ups",
        "interaction_degree",
    ]  # fmt: skip


def test_thread_ids_follow_replies_to_the_root():
    frame = thread(CASES["community"])
    assert thread_ids(frame).tolist() == ["f1", "f1", "f1", "f1"]


def test_engagement_ladder():
    fan = [("k1", None, "kim", 0, "praise")]
    frames = pd.concat([thread(rows) for rows in [*CASES.values(), fan]], ignore_index=True)
    frames["thread_id"] = thread_ids(frames)
    frames["person_id"] = frames["author_key"].where(~frames["is_brand"])
    threads = interaction_degrees(frames)
    supporters = pd.DataFrame({"conversation_id": ["d1"], "n_supporters": [4]})
    got = (
        engagement_levels(frames, threads, supporters)
        .set_index("person_id")["engagement_level"]
        .to_dict()
    )
    assert got == {
        "ann": "following",
        "bob": "following",
        "cat": "following",
        "dan": "owning",  # an idea others back (here: his thread's mention)
        "eve": "owning",  # started a two-way conversation
        "fay": "owning",  # started a community thread (one: not yet leading)
        "gus": "contributing",  # took part in someone else's thread, praising
        "hal": "contributing",
        "kim": "endorsing",  # praises, nothing more
    }


def test_two_community_threads_lead_and_each_person_is_placed_once():
    # Ivy starts two community threads (leading); Jo takes part in both (contributing, once).
    rows = [
        ("m1", None, "ivy", 0, "suggestion"),
        ("m2", "m1", "jo", 1, "praise"),
        ("m3", "m2", "kai", 2, "other"),
        ("m4", "m1", "ivy", 3, "other"),
        ("n1", None, "ivy", 10, "question"),
        ("n2", "n1", "jo", 11, "other"),
        ("n3", "n2", "lu", 12, "other"),
        ("n4", "n1", "ivy", 13, "other"),
    ]
    frame = thread(rows)
    frame["thread_id"] = thread_ids(frame)
    frame["person_id"] = frame["author_key"]
    threads = interaction_degrees(frame)
    assert threads.set_index("thread_id")["interaction_degree"].to_dict() == {
        "m1": "community",
        "n1": "community",
    }
    levels = engagement_levels(frame, threads)
    assert sorted(levels.itertuples(index=False, name=None)) == [
        ("ivy", "leading"),
        ("jo", "contributing"),
        ("kai", "contributing"),
        ("lu", "contributing"),
    ]
