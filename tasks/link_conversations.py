"""Conversations linked to customers, enriched, and the stakeholders behind the rest."""

from __future__ import annotations

import pandas as pd
from prefect import task

from tasks.transforms.enrich_conversations import enrich_conversations
from tasks.transforms.identity import (
    build_conversations,
    customer_identity_keys,
    link_conversations_to_customers,
)
from tasks.transforms.stakeholders import score_stakeholders


@task
def link_conversations(customers: pd.DataFrame, social_posts: pd.DataFrame, tickets: pd.DataFrame,
                       ticket_comments: pd.DataFrame, ideas: pd.DataFrame
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns ``(conversations, stakeholders)``: one row per conversation item, and one per
    non-customer speaker."""
    keys = customer_identity_keys(customers, tickets)
    conversations = build_conversations(social_posts, tickets, ticket_comments, ideas)
    linked = enrich_conversations(link_conversations_to_customers(conversations, keys))
    return linked, score_stakeholders(linked)
