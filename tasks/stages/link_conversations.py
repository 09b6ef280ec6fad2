"""Conversations linked to customers, enriched, and the stakeholders behind the rest."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from patronage.config import IdentityConfig, TextConfig
from patronage.tasks.transforms.conversations.conversation_context import join_conversation_context
from patronage.tasks.transforms.conversations.engagement_level import engagement_levels
from patronage.tasks.transforms.conversations.enrich_conversations import enrich_conversations
from patronage.tasks.transforms.conversations.interaction_degree import (
    interaction_degrees,
    thread_ids,
)
from patronage.tasks.transforms.conversations.stakeholders import score_stakeholders
from patronage.tasks.transforms.linking.identity import (
    apply_identity_overrides,
    build_conversations,
    customer_identity_keys,
    link_conversations_to_customers,
)
from patronage.tasks.transforms.linking.probable_links import (
    LINK_COLUMNS,
    ProbableLinks,
    ProfileLinking,
    probable_customer_links,
)
from patronage.tasks.transforms.membership import is_in
from patronage.tasks.transforms.text.text_signals import DistinctTexts, text_encoder


def resolve_identity_keys(
    customers: pd.DataFrame,
    social_posts: pd.DataFrame,
    tickets: pd.DataFrame,
    overrides: pd.DataFrame | None,
    kept_links: pd.DataFrame | None,
    identity: IdentityConfig,
    brand_handles: Collection[str] = (),
    memory: ProfileLinking | None = None,
    candidates: pd.DataFrame | None = None,
    as_of: date | None = None,
    compare_all: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, ProbableLinks]:
    """Exact keys, then links kept from earlier runs, then new probabilistic links.

    ``memory``, ``candidates``: record linkage's memory and near misses from the last night,
    so only new or changed profiles are compared (``probable_customer_links``); ``as_of``:
    tonight; ``compare_all``: compare every profile, as if none had been before.

    Returns:
        ``(keys, probabilistic, night)``: every identity key with its customer, method and
        match probability (1 for exact and manual keys); the probabilistic links alone (kept
        and new), which the publish step stores, followed by tonight's near misses (method
        ``candidate``, not among the keys) for identity review; and tonight's record linkage
        (its memory for the next night, and what it compared).
    """
    exact = customer_identity_keys(customers, tickets, identity.phone_region).assign(
        match_probability=1.0
    )
    kept = kept_links if kept_links is not None else pd.DataFrame(columns=LINK_COLUMNS)
    # A kept link yields to exact keys and to a customer who has left the CRM export.
    kept = kept[
        ~is_in(kept["identity_key"], exact["identity_key"])
        & is_in(kept["customer_id"], customers["customer_id"])
    ]
    keys = pd.concat([exact, kept[LINK_COLUMNS]], ignore_index=True)
    if overrides is not None and len(overrides):
        keys = apply_identity_overrides(keys, overrides)
    night = (
        probable_customer_links(
            customers,
            social_posts,
            keys,
            overrides,
            identity.match_threshold,
            brand_handles=brand_handles,
            review_floor=identity.review_floor,
            memory_gb=identity.linking_memory_gb,
            memory=memory,
            candidates=candidates,
            as_of=as_of,
            compare_all=compare_all,
            retrain_after_days=identity.retrain_after_days,
            retrain_on_growth=identity.retrain_on_growth,
        )
        if identity.probabilistic
        else ProbableLinks(pd.DataFrame(columns=LINK_COLUMNS))
    )
    new = night.links
    candidates = new[new["method"] == "candidate"]
    keys = pd.concat([keys, new.loc[new["method"] != "candidate", LINK_COLUMNS]], ignore_index=True)
    probabilistic = pd.concat(
        [keys[keys["method"] == "probabilistic"], candidates], ignore_index=True
    )
    return keys.reset_index(drop=True), probabilistic, night


# ``resolve_identity_keys`` as a task of its own: a night links the speakers while its new
# text is still being encoded, then reads the text.
resolve_identities = task(resolve_identity_keys, name="resolve_identities", cache_policy=NO_CACHE)


@task(cache_policy=NO_CACHE)
def link_conversations(
    customers: pd.DataFrame,
    social_posts: pd.DataFrame,
    tickets: pd.DataFrame,
    ticket_comments: pd.DataFrame,
    ideas: pd.DataFrame,
    overrides: pd.DataFrame | None = None,
    scores: pd.DataFrame | None = None,
    kept_links: pd.DataFrame | None = None,
    identity: IdentityConfig | None = None,
    text_corrections: pd.DataFrame | None = None,
    text: TextConfig | None = None,
    brand_handles: Collection[str] = (),
    conversations: pd.DataFrame | None = None,
    linking_memory: ProfileLinking | None = None,
    identity_candidates: pd.DataFrame | None = None,
    as_of: date | None = None,
    compare_all: bool = False,
    identities: tuple[pd.DataFrame, pd.DataFrame, ProbableLinks] | None = None,
    wait_for_text: Callable[[], object] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, ProbableLinks]:
    """Returns ``(conversations, stakeholders, probabilistic_links, linking)``: one row per conversation
    item (with the customer's value and triggers, or the stakeholder's influence), one per
    non-customer speaker, and one per author linked by probability (then the near misses,
    method ``candidate``, which link nothing). Manual ``overrides``
    (must-link / cannot-link) win over the pipeline's keys; ``kept_links`` from earlier runs
    are kept, so a person's id does not move as new records arrive. ``text_corrections`` are
    intents people ruled out for conversations (``enrich_conversations``); ``text`` names the
    models that read them; ``brand_handles`` are the company's own accounts (``Policy``);
    ``conversations`` is ``build_conversations`` of the same frames, when the caller has it;
    ``linking_memory``, ``identity_candidates``, ``as_of`` and ``compare_all``: see
    ``resolve_identity_keys``; ``linking`` is tonight's record linkage. ``identities``:
    ``resolve_identity_keys`` of the same frames, when the caller has it (the arguments it
    needs are then not used). ``wait_for_text``: called before the text is read, once the
    work that needs no text is done (tonight's encoding, still under way on the task runner;
    a callable, so that Prefect does not wait for it before the task starts)."""
    text = text or TextConfig()
    identity = identity or IdentityConfig()
    keys, probabilistic, linking = identities or resolve_identity_keys(
        customers, social_posts, tickets, overrides, kept_links, identity, brand_handles,
        linking_memory, identity_candidates, as_of, compare_all,
    )  # fmt: skip
    if conversations is None:
        conversations = build_conversations(
            social_posts, tickets, ticket_comments, ideas, identity.phone_region, brand_handles
        )
    linked = link_conversations_to_customers(conversations, keys)
    # What needs no reading of the text first: it runs while tonight's text is encoded.
    threads_of = thread_ids(linked)
    influence = score_stakeholders(linked)
    texts = DistinctTexts.of(linked["text"].tolist()).hashed()
    if wait_for_text is not None:
        wait_for_text()
    linked = enrich_conversations(
        linked,
        Path(text.model_dir) if text.model_dir else None,
        text_corrections,
        text_encoder(text),
        texts,
    )
    linked["thread_id"] = threads_of
    threads = interaction_degrees(linked)
    linked = linked.merge(threads[["thread_id", "interaction_degree"]], on="thread_id", how="left")
    linked["person_id"] = linked["customer_id"].fillna(linked["stakeholder_id"])
    levels = engagement_levels(linked, threads)
    stakeholders = influence.merge(
        levels.rename(columns={"person_id": "stakeholder_id"}), on="stakeholder_id", how="left"
    )
    if scores is not None:
        linked = join_conversation_context(linked, scores, stakeholders)
    return linked, stakeholders, probabilistic, linking
