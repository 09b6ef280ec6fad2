"""Degree of social interaction, one per thread (a post and its replies, a ticket and its comments).

The six degrees, low to high (see ``shared/domain.md``): monologue, venting, skewed
conversation, social pressure, objective conversation, community of conversations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from patronage.tasks.transforms.sorting import sort_stable

DEGREES = ["monologue", "venting", "skewed", "social_pressure", "objective", "community"]
NEGATIVE_INTENTS = ("complaint", "churn_threat")


def thread_ids(conversations: pd.DataFrame) -> pd.Series:
    """The root conversation of every row, following ``reply_to_id`` up to the thread's start.

    Walks row positions with numpy (1.35 M conversations: one array lookup per level, where
    mapping the ids level by level took seconds).
    """
    ids = conversations["conversation_id"].to_numpy(dtype=object)
    first = ~pd.Index(ids).duplicated()
    distinct = pd.Index(ids[first])
    found = distinct.get_indexer(conversations["reply_to_id"].to_numpy(dtype=object))
    parent = np.where(found >= 0, np.flatnonzero(first)[np.maximum(found, 0)], -1)
    root = np.arange(len(ids))
    for _ in range(50):  # threads deeper than this are cut at 50 levels
        up = parent[root]
        moved = up >= 0
        if not moved.any():
            break
        root = np.where(moved, up, root)
    return pd.Series(ids[root], index=conversations.index)


def interaction_degrees(conversations: pd.DataFrame) -> pd.DataFrame:
    """Classify each thread by its structure and the text of its opening post.

    Rules, highest first:
      * community — three or more people (not the company) take part, two of them besides the
        one who started it;
      * objective — the company answered and the starter answered back: a two-way conversation;
      * social pressure — the starter asked again without an answer in between, or others
        joined in while the company stayed silent;
      * skewed — replies exist but the exchange is one-sided;
      * venting — a single complaint or churn threat, wanting acknowledgement;
      * monologue — a single statement expecting no reply.

    Args:
        conversations: ``conversation_id``, ``reply_to_id``, ``author_key``, ``is_brand``,
            ``occurred_at``, ``intent``.

    Returns:
        One row per thread: ``thread_id``, ``n_items``, ``participants`` (not counting the
        company), ``company_replied``, ``starter_follow_ups``, ``interaction_degree``.
    """
    # Only the columns read here: sorting every column of a million conversations cost more
    # than the classifying.
    used = ["conversation_id", "author_key", "is_brand", "occurred_at", "intent"]
    frame = conversations[used].assign(
        thread_id=conversations["thread_id"]
        if "thread_id" in conversations
        else thread_ids(conversations)
    )
    frame = sort_stable(frame, ["thread_id", "occurred_at", "conversation_id"])
    # Threads as numbers, in sorted order (grouping on the text ids hashed them at every step).
    codes, thread_values = pd.factorize(frame["thread_id"])
    thread = pd.Series(codes, index=frame.index)
    first = np.ones(len(codes), dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    starters = frame[first]
    frame = frame.assign(starter=starters["author_key"].to_numpy()[codes])
    by_starter = (frame["author_key"] == frame["starter"]) & ~frame["is_brand"]
    brand = frame["is_brand"].astype(bool)
    # The starter speaking after the company: a reply to it. Before any company reply: an ask.
    first_brand = frame["occurred_at"].where(brand).groupby(thread).transform("min")
    after_brand = by_starter & first_brand.notna() & (frame["occurred_at"] > first_brand)
    unanswered_ask = by_starter & (first_brand.isna() | (frame["occurred_at"] < first_brand))
    others = ~by_starter & ~brand
    threads = pd.DataFrame(
        {
            "n_items": thread.groupby(thread).size(),
            "participants": frame.loc[~brand, "author_key"].groupby(thread[~brand]).nunique(),
            "company_replied": brand.groupby(thread).any(),
            "starter_answered": after_brand.groupby(thread).any(),
            "starter_follow_ups": unanswered_ask.groupby(thread).sum() - 1,
            "others": others.groupby(thread).sum(),
            "negative_start": starters["intent"].isin(NEGATIVE_INTENTS).to_numpy(),
        }
    ).fillna({"participants": 0})
    threads.index = pd.Index(thread_values, name="thread_id")
    t = threads
    degree = np.select(
        [
            t["participants"] >= 3,
            t["company_replied"] & t["starter_answered"],
            ~t["company_replied"] & ((t["starter_follow_ups"] >= 1) | (t["others"] >= 1)),
            t["n_items"] >= 2,
            t["negative_start"],
        ],
        ["community", "objective", "social_pressure", "skewed", "venting"],
        default="monologue",
    )
    threads["interaction_degree"] = degree
    threads["participants"] = threads["participants"].astype(int)
    threads["starter_follow_ups"] = threads["starter_follow_ups"].clip(lower=0).astype(int)
    return threads.reset_index()[
        [
            "thread_id",
            "n_items",
            "participants",
            "company_replied",
            "starter_follow_ups",
            "interaction_degree",
        ]
    ]
