"""Group the ideas of the night's conversations into the ideation queue."""

from __future__ import annotations

from datetime import date

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from patronage.config import IdeationConfig, TextConfig
from patronage.tasks.transforms.queues.ideation_queue import build_ideation_queue
from patronage.tasks.transforms.text.text_signals import text_encoder


@task(cache_policy=NO_CACHE)
def group_ideas(
    conversations: pd.DataFrame,
    scores: pd.DataFrame,
    stakeholders: pd.DataFrame,
    as_of: date,
    ideation: IdeationConfig,
    size: int,
    idea_overrides: pd.DataFrame | None = None,
    text: TextConfig | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns ``(ideation, supporters)``: people's idea merges and splits win over the
    clustering; ideas are grouped with ``text``'s encoder (default the bundled one).

    Grouping by meaning compares every idea with every other, so it runs as one task: the
    night's ideas are thousands where customers are millions.
    """
    text = text or TextConfig()
    return build_ideation_queue(
        conversations,
        scores,
        stakeholders,
        as_of,
        ideation,
        size,
        idea_overrides,
        text_encoder(text),
    )
