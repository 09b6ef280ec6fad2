"""Conversations linked to customers, enriched, and the stakeholders behind the rest."""

from __future__ import annotations

import pandas as pd
from prefect import task

from tasks.transforms.conversation_context import join_conversation_context
from tasks.transforms.engagement_level import engagement_levels
from tasks.transforms.enrich_conversations import enrich_conversations
from tasks.transforms.identity import (
    apply_identity_overrides,
    build_conversations,
    customer_identity_keys,
    link_conversations_to_customers,
)
from tasks.transforms.interaction_degree import interaction_degrees, thread_ids
from tasks.transforms.stakeholders import score_stakeholders


@task
def link_conversations(customers: pd.DataFrame, social_posts: pd.DataFrame, tickets: pd.DataFrame,
                       ticket_comments: pd.DataFrame, ideas: pd.DataFrame,
                       overrides: pd.DataFrame | None = None, scores: pd.DataFrame | None = None
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns ``(conversations, stakeholders)``: one row per conversation item (with the
    customer's value and triggers, or the stakeholder's influence), and one per non-customer
    speaker. Manual ``overrides`` (must-link / cannot-link) win over the pipeline's keys."""
    keys = customer_identity_keys(customers, tickets)
    if overrides is not None:
        keys = apply_identity_overrides(keys, overrides)
    conversations = build_conversations(social_posts, tickets, ticket_comments, ideas)
    linked = enrich_conversations(link_conversations_to_customers(conversations, keys))
    linked["thread_id"] = thread_ids(linked)
    threads = interaction_degrees(linked)
    linked = linked.merge(threads[["thread_id", "interaction_degree"]], on="thread_id", how="left")
    linked["person_id"] = linked["customer_id"].fillna(linked["stakeholder_id"])
    levels = engagement_levels(linked, threads)
    stakeholders = score_stakeholders(linked).merge(
        levels.rename(columns={"person_id": "stakeholder_id"}), on="stakeholder_id", how="left")
    if scores is not None:
        linked = join_conversation_context(linked, scores, stakeholders)
    return linked, stakeholders
