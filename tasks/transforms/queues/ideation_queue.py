"""Ideation queue: one row per distinct idea (``idea_key``), with its supporters kept.

Priority = Σ supporter weights × (1 + momentum share) + 0.5·log1p(board votes), where a
customer weighs 1 + log1p(expected CLV) and a stakeholder 1 + influence / 4; momentum share is
the share of supporter weight from the last ``momentum_days``.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from patronage.config import IdeationConfig
from patronage.tasks.transforms.membership import is_in
from patronage.tasks.transforms.queues.idea_grouping import group_texts
from patronage.tasks.transforms.text.text_encoder import SentenceEncoder, load_encoder
from patronage.tasks.transforms.text.text_signals import embed_texts

# A reply this short ("+1", "same here", "this. exactly this") reacts to the post it answers:
# it backs that post's idea, if it has one, and is never an idea of its own.
SHORT_REPLY_WORDS = 4


_WORD_CHARACTER = re.compile(r"\w")


def _words(text: str) -> int:
    """Words of ``text`` that are not ``@mentions`` (a word holds a letter or digit)."""
    return sum(1 for w in text.split() if not w.startswith("@") and _WORD_CHARACTER.search(w))


def is_short_reply(conversations: pd.DataFrame) -> pd.Series:
    """Replies with fewer than ``SHORT_REPLY_WORDS`` words (``@mentions`` not counted)."""
    if "reply_to_id" not in conversations:
        return pd.Series(False, index=conversations.index)
    replies = conversations["reply_to_id"].notna()
    # Words are counted on replies only (most conversations answer nothing), once per distinct
    # text: replies repeat ("+1", "same here"), and counting each took 3 s a night at 1 M.
    codes, texts = pd.factorize(conversations.loc[replies, "text"].fillna(""))
    words = np.array([_words(str(t)) for t in texts], dtype=np.int64)[codes]
    short = pd.Series(False, index=conversations.index)
    short[replies] = words < SHORT_REPLY_WORDS
    return short


IDEA_COLUMNS = [
    "idea_key",
    "title",
    "n_mentions",
    "n_supporters",
    "customer_supporters",
    "stakeholder_supporters",
    "votes",
    "priority_score",
    "priority_rank",
    "first_seen",
    "last_activity",
    "momentum",
]
SUPPORTER_COLUMNS = [
    "idea_key",
    "supporter_id",
    "supporter_kind",
    "weight",
    "conversation_id",
    "excerpt",
]
# A sample of the mention is enough to recognise it; the whole text stays in the source.
EXCERPT_CHARS = 280
OVERRIDE_COLUMNS = ["subject", "decision", "target"]


def idea_key_of(conversation_id: str) -> str:
    """An idea's key is its earliest mention's id: ``idea:I00012`` → ``IDEA-idea-I00012``."""
    return "IDEA-" + conversation_id.replace(":", "-")


def apply_idea_overrides(
    conversation_ids: list[str], labels: np.ndarray, overrides: pd.DataFrame | None
) -> list[str]:
    """Idea keys for clustered mentions, with people's splits and merges applied.

    Args:
        conversation_ids: Mentions, oldest first.
        labels: Group number per mention (``idea_grouping.group_texts``).
        overrides: ``subject``, ``decision``, ``target``: a ``split`` takes mention ``subject``
            out of its cluster; a ``merge`` folds idea ``subject`` into idea ``target``
            (chains are followed: B → A and A → C put B's mentions in C).

    Returns:
        One idea key per mention.
    """
    labels = labels.copy()
    overrides = overrides if overrides is not None else pd.DataFrame(columns=OVERRIDE_COLUMNS)
    split = set(overrides.loc[overrides["decision"] == "split", "subject"])
    next_label = int(labels.max()) + 1 if len(labels) else 0
    for i, conversation_id in enumerate(conversation_ids):
        if conversation_id in split:
            labels[i] = next_label
            next_label += 1
    first_of: dict[int, str] = {}
    for conversation_id, label in zip(conversation_ids, labels, strict=True):
        first_of.setdefault(int(label), conversation_id)
    keys = [idea_key_of(first_of[int(label)]) for label in labels]
    merges = overrides[overrides["decision"] == "merge"]
    into = dict(zip(merges["subject"], merges["target"], strict=True))

    def final(key: str) -> str:
        path = [key]
        while key in into:
            key = into[key]
            if key in path:  # a cycle (not made through the API): its smallest key wins
                return min(path[path.index(key) :])
            path.append(key)
        return key

    return [final(k) for k in keys]


def build_ideation_queue(
    conversations: pd.DataFrame,
    customers: pd.DataFrame,
    stakeholders: pd.DataFrame,
    as_of: date,
    config: IdeationConfig,
    size: int,
    overrides: pd.DataFrame | None = None,
    encoder: SentenceEncoder | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cluster ideas and suggestions into items and rank them by who backs them.

    Args:
        conversations: Enriched, linked conversations (board ideas have ``source == "ideas"``).
        customers: ``customer_id`` and ``expected_clv``.
        stakeholders: ``stakeholder_id`` and ``influence``.
        as_of: Run date, for momentum.
        config: Merge threshold and momentum window.
        size: Items kept.
        overrides: People's merges and splits (``apply_idea_overrides``).

    Returns:
        ``(items, supporters)``: one row per idea, and one row per (idea, supporter).
    """
    short_reply = is_short_reply(conversations)
    members = (
        conversations[
            ((conversations["source"] == "ideas") | (conversations["intent"] == "suggestion"))
            & ~conversations["is_brand"]
            & ~short_reply
        ]
        .sort_values(["occurred_at", "conversation_id"], kind="stable")
        .copy()
    )
    if members.empty:
        return pd.DataFrame(columns=IDEA_COLUMNS), pd.DataFrame(columns=SUPPORTER_COLUMNS)
    # Grouped by meaning (``idea_grouping``), the same code as ``patronage text group``.
    encoder = encoder or load_encoder()
    texts = [t if isinstance(t, str) else "" for t in members["text"]]
    labels = group_texts(
        texts, lambda distinct: embed_texts(encoder, distinct), config.merge_threshold
    )
    # The key is the earliest member's id: new members join without renaming the idea.
    members["idea_key"] = apply_idea_overrides(
        members["conversation_id"].tolist(), labels, overrides
    )
    # "+1" under a suggestion backs that suggestion's idea.
    idea_of = members.set_index("conversation_id")["idea_key"]
    replies = conversations[short_reply & ~conversations["is_brand"]]
    if len(replies):
        endorsing = replies[is_in(replies["reply_to_id"], idea_of.index)]
        members = pd.concat(
            [
                members,
                endorsing.assign(idea_key=endorsing["reply_to_id"].map(idea_of).to_numpy()),
            ],
            ignore_index=True,
        )

    clv = customers.set_index("customer_id")["expected_clv"]
    influence = stakeholders.set_index("stakeholder_id")["influence"]
    is_customer = members["customer_id"].notna()
    members["supporter_id"] = members["customer_id"].where(is_customer, members["stakeholder_id"])
    members["supporter_kind"] = np.where(is_customer, "customer", "stakeholder")
    members["weight"] = np.where(
        is_customer,
        1 + np.log1p(members["customer_id"].map(clv).fillna(0).clip(lower=0)),
        1 + members["stakeholder_id"].map(influence).fillna(0) / 4,
    )
    supporters = (
        members.dropna(subset=["supporter_id"])
        .sort_values(["idea_key", "supporter_id", "occurred_at"], kind="stable")
        .drop_duplicates(["idea_key", "supporter_id"])
    )
    recent_since = pd.Timestamp(as_of) - pd.Timedelta(days=config.momentum_days)
    supporters = supporters.assign(recent=supporters["occurred_at"] >= recent_since)

    per_idea = supporters.groupby("idea_key").agg(
        weight=("weight", "sum"),
        recent_weight=("weight", lambda w: w[supporters.loc[w.index, "recent"]].sum()),
        n_supporters=("supporter_id", "size"),
        customer_supporters=("supporter_kind", lambda k: int((k == "customer").sum())),
        stakeholder_supporters=("supporter_kind", lambda k: int((k == "stakeholder").sum())),
    )
    board = members[members["source"] == "ideas"]
    items = (
        members.groupby("idea_key")
        .agg(
            n_mentions=("conversation_id", "size"),
            first_seen=("occurred_at", "min"),
            last_activity=("occurred_at", "max"),
        )
        .join(per_idea, how="left")
    )
    items["votes"] = (
        board.groupby("idea_key")["likes"].sum().reindex(items.index).fillna(0).astype(int)
    )
    # Title: the board title with the most votes, else the earliest mention.
    titled = members.assign(is_board=members["source"] == "ideas").sort_values(
        ["is_board", "likes", "occurred_at"], ascending=[False, False, True], kind="stable"
    )
    items["title"] = titled.groupby("idea_key")["text"].first()
    items = items.fillna(
        {
            "weight": 0.0,
            "recent_weight": 0.0,
            "n_supporters": 0,
            "customer_supporters": 0,
            "stakeholder_supporters": 0,
        }
    )
    momentum = (items["recent_weight"] / items["weight"].where(items["weight"] > 0)).fillna(0)
    items["momentum"] = momentum.round(4)
    items["priority_score"] = (
        items["weight"] * (1 + momentum) + 0.5 * np.log1p(items["votes"])
    ).round(4)
    items = (
        items.reset_index()
        .sort_values(["priority_score", "idea_key"], ascending=[False, True], kind="stable")
        .head(size)
    )
    items["priority_rank"] = np.arange(1, len(items) + 1)
    for col in ("n_supporters", "customer_supporters", "stakeholder_supporters"):
        items[col] = items[col].astype(int)
    supporters = supporters[is_in(supporters["idea_key"], items["idea_key"])]
    supporters = supporters.assign(
        weight=supporters["weight"].round(4),
        excerpt=supporters["text"].astype("string").str.slice(0, EXCERPT_CHARS).astype(object),
    )
    return (
        items[IDEA_COLUMNS].reset_index(drop=True),
        supporters[SUPPORTER_COLUMNS].reset_index(drop=True),
    )
