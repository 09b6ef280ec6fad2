"""Build stage: the retention and ideation queues from scores and conversations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from patronage.config import IdeationConfig, Policy, QueueSizes, TextConfig
from patronage.resources.database import PatronageDatabase
from patronage.tasks.io.idea_overrides import read_idea_overrides
from patronage.tasks.stages.group_ideas import group_ideas
from patronage.tasks.stages.rank_retention_cases import rank_retention_cases
from patronage.tasks.stages.read_conversations import Linked
from patronage.tasks.stages.value_customers import Scored


@dataclass(repr=False)
class Queues:
    """Retention cases, idea items and one row per (idea, supporter)."""

    retention: pd.DataFrame
    ideation: pd.DataFrame
    supporters: pd.DataFrame

    @property
    def rows(self) -> int:
        return len(self.retention) + len(self.ideation)

    def __repr__(self) -> str:
        return f"Queues({len(self.retention)} cases, {len(self.ideation)} ideas)"


def build_work_queues(
    tickets: pd.DataFrame,
    scored: Scored,
    linked: Linked,
    as_of: date,
    database: PatronageDatabase,
    policy: Policy,
    ideation: IdeationConfig,
    sizes: QueueSizes,
    text: TextConfig,
    customers_per_partition: int = 250_000,
) -> Queues:
    """Rank, route and date the cases by ``policy`` (in partitions of customers on Dask);
    group ideas (people's merges and splits win over the clustering)."""
    retention = rank_retention_cases(
        scored.scores, linked.conversations, tickets, as_of, policy, sizes.retention,
        customers_per_partition,
    )  # fmt: skip
    items, supporters = group_ideas(
        linked.conversations, scored.scores, linked.stakeholders, as_of, ideation,
        sizes.ideation, read_idea_overrides(database), text,
    )  # fmt: skip
    return Queues(retention, items, supporters)
