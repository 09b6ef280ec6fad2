"""Engagement level, one per person (customer or stakeholder), on the engagement pyramid:
observing → following → endorsing → contributing → owning → leading."""

from __future__ import annotations

import numpy as np
import pandas as pd

from patronage.tasks.transforms.membership import is_in

LEVELS = ["observing", "following", "endorsing", "contributing", "owning", "leading"]


def engagement_levels(
    conversations: pd.DataFrame, threads: pd.DataFrame, idea_supporters: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Place every speaker on the ladder by what they did, highest rung reached:

      * following — speaks to or about the company at all;
      * endorsing — praises it, or agrees with / amplifies someone else's thread;
      * contributing — suggests an idea, or takes part in a thread somebody else started;
      * owning — started an idea that others back, or a thread that became two-way or a community;
      * leading — started two or more community threads.

    (``observing`` is everyone known who has not spoken; they have no conversation rows.)

    Args:
        conversations: With ``person_id`` (customer or stakeholder id), ``conversation_id``,
            ``intent``, ``thread_id``, ``is_brand``.
        threads: Output of ``interaction_degrees``.
        idea_supporters: ``conversation_id`` of each idea mention and ``n_supporters`` of its idea.

    Returns:
        One row per person: ``person_id``, ``engagement_level``.
    """
    speaking = conversations["person_id"].notna() & ~conversations["is_brand"]
    # Only the columns read here (a copy of every column of a million conversations took
    # longer than placing the people).
    people = conversations.loc[speaking, ["person_id", "conversation_id", "intent", "thread_id"]]
    if people.empty:
        return pd.DataFrame(columns=["person_id", "engagement_level"])
    degree = threads.set_index("thread_id")["interaction_degree"]
    people["starts"] = people["conversation_id"] == people["thread_id"]
    people["thread_degree"] = people["thread_id"].map(degree)
    backed = set()
    if idea_supporters is not None and len(idea_supporters):
        backed = set(idea_supporters.loc[idea_supporters["n_supporters"] >= 3, "conversation_id"])
    negative = people["intent"].isin(["complaint", "churn_threat"])
    people["endorses"] = (people["intent"] == "praise") | (~people["starts"] & ~negative)
    people["contributes"] = (people["intent"] == "suggestion") | ~people["starts"]
    people["owns"] = is_in(people["conversation_id"], backed) | (
        people["starts"] & people["thread_degree"].isin(["objective", "community"])
    )
    people["leads"] = people["starts"] & (people["thread_degree"] == "community")
    rung = people.groupby("person_id").agg(
        endorsing=("endorses", "any"),
        contributing=("contributes", "any"),
        owning=("owns", "any"),
        community_threads=("leads", "sum"),
    )
    rung["leading"] = rung["community_threads"] >= 2
    level = np.select(
        [rung["leading"], rung["owning"], rung["contributing"], rung["endorsing"]],
        ["leading", "owning", "contributing", "endorsing"],
        default="following",
    )
    return pd.DataFrame({"person_id": rung.index, "engagement_level": level})
