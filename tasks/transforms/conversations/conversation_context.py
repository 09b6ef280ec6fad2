"""Conversations joined with who is behind them (same grain as ``conversations``)."""

from __future__ import annotations

import pandas as pd

CUSTOMER_CONTEXT = ["value_tier", "expected_clv", "value_at_risk", "latency_breach", "alive_drop"]


def join_conversation_context(
    conversations: pd.DataFrame, scores: pd.DataFrame, stakeholders: pd.DataFrame
) -> pd.DataFrame:
    """Give every conversation row its customer's value tier, CLV and triggers, or its
    stakeholder's influence and engagement level, ready for the queues."""
    customer = scores[["customer_id", *CUSTOMER_CONTEXT]]
    speaker = stakeholders[["stakeholder_id", "influence", "engagement_level"]]
    return conversations.merge(customer, on="customer_id", how="left").merge(
        speaker, on="stakeholder_id", how="left"
    )
