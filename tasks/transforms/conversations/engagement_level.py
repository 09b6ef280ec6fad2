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
    # Counted on each person's code, not grouped by the ids: sorting 800,000 people's ids for a
    # groupby took 2.5 s of a million customers' night. People come in order of first speech.
    codes, persons = pd.factorize(people["person_id"])

    def count(column: str) -> np.ndarray:
        # A missing flag (text with no intent read) counts as not reached, as ``any`` has it.
        reached = people[column].fillna(False).to_numpy(dtype=float)
        return np.bincount(codes, weights=reached, minlength=len(persons))

    level = np.select(
        [count("leads") >= 2, count("owns") > 0, count("contributes") > 0, count("endorses") > 0],
        ["leading", "owning", "contributing", "endorsing"],
        default="following",
    )
    return pd.DataFrame({"person_id": persons, "engagement_level": level})
