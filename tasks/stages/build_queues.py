"""Build both work queues from scored customers and enriched conversations."""

from __future__ import annotations

from datetime import date

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from patronage.config import (
    IdeationConfig,
    Policy,
    QueueSizes,
    TextConfig,
)
from patronage.tasks.transforms.queues.ideation_queue import build_ideation_queue
from patronage.tasks.transforms.queues.retention_queue import (
    build_retention_queue,
    conversation_evidence,
)
from patronage.tasks.transforms.text.text_encoder import load_encoder


@task(cache_policy=NO_CACHE)
def build_queues(
    scores: pd.DataFrame,
    conversations: pd.DataFrame,
    stakeholders: pd.DataFrame,
    tickets: pd.DataFrame,
    as_of: date,
    policy: Policy,
    ideation: IdeationConfig,
    sizes: QueueSizes,
    idea_overrides: pd.DataFrame | None = None,
    text: TextConfig | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Returns ``(retention, ideation, supporters)``; cases are ranked, routed and given due
    dates by the company's ``policy``; people's idea merges and splits win over the
    clustering; ideas are grouped with ``text``'s encoder (default the bundled one)."""
    text = text or TextConfig()
    evidence = conversation_evidence(conversations, tickets, as_of, policy.triggers)
    retention = build_retention_queue(scores, evidence, as_of, sizes.retention, policy)
    items, supporters = build_ideation_queue(
        conversations,
        scores,
        stakeholders,
        as_of,
        ideation,
        sizes.ideation,
        idea_overrides,
        load_encoder(text.encoder_path, text.tokenizer_path),
    )
    return retention, items, supporters
