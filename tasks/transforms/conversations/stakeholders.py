"""Stakeholders: one row per speaker not linked to a customer, keyed by ``stakeholder_id``."""

from __future__ import annotations

import numpy as np
import pandas as pd


def score_stakeholders(conversations: pd.DataFrame) -> pd.DataFrame:
    """Score every non-customer speaker ("score the internaut").

    ``influence`` = log1p(followers) + log1p(likes + shares + replies received)
    + log1p(active days): reach, engagement and activity, each on a log scale so that one
    celebrity does not drown everyone else.

    Args:
        conversations: Linked conversations with ``stakeholder_id``, ``conversation_id``,
            ``reply_to_id``, ``followers``, ``likes``, ``shares``, ``occurred_at``.

    Returns:
        ``stakeholder_id``, ``n_conversations``, ``followers``, ``engagement``,
        ``active_days``, ``influence``.
    """
    # Only the columns read here: filtering all of a million conversations' columns cost more
    # than the scoring.
    used = ["stakeholder_id", "conversation_id", "followers", "likes", "shares", "occurred_at"]
    own = conversations.loc[conversations["stakeholder_id"].notna(), used]
    if own.empty:
        return pd.DataFrame(
            columns=[
                "stakeholder_id",
                "n_conversations",
                "followers",
                "engagement",
                "active_days",
                "influence",
            ]
        )
    replies = conversations["reply_to_id"].dropna().value_counts()
    own = own.assign(
        replies_received=own["conversation_id"].map(replies).fillna(0),
        day=pd.to_datetime(own["occurred_at"]).dt.floor("D"),
    )
    grouped = own.groupby("stakeholder_id", sort=True).agg(
        n_conversations=("conversation_id", "size"),
        followers=("followers", "max"),
        likes=("likes", "sum"),
        shares=("shares", "sum"),
        replies=("replies_received", "sum"),
        active_days=("day", "nunique"),
    )
    grouped["engagement"] = grouped["likes"] + grouped["shares"] + grouped["replies"]
    grouped["influence"] = (
        np.log1p(grouped["followers"])
        + np.log1p(grouped["engagement"])
        + np.log1p(grouped["active_days"])
    )
    return grouped.reset_index()[
        ["stakeholder_id", "n_conversations", "followers", "engagement", "active_days", "influence"]
    ]
