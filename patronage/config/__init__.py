"""Typed configuration that every layer may import: stage settings, the company's policy, and
where Patronage keeps its files. It imports nothing else of Patronage."""

from patronage.config.locations import (
    PACKAGE_DIR,
    default_database_url,
    patronage_home,
)
from patronage.config.policy import (
    RETENTION_REASONS,
    VALUE_TIERS,
    Policy,
    PolicyFileError,
    RetentionPolicy,
    effective_policy,
)
from patronage.config.settings import (
    BUNDLED_SAMPLE,
    BUNDLED_SAMPLE_AS_OF,
    BUNDLED_SAMPLE_POLICY,
    CasePolicy,
    IdeationConfig,
    IdentityConfig,
    QueueSizes,
    TextConfig,
    TriggerConfig,
    ValueModelConfig,
    merge_overrides,
)

__all__ = [
    "BUNDLED_SAMPLE",
    "BUNDLED_SAMPLE_AS_OF",
    "BUNDLED_SAMPLE_POLICY",
    "PACKAGE_DIR",
    "RETENTION_REASONS",
    "VALUE_TIERS",
    "CasePolicy",
    "IdeationConfig",
    "IdentityConfig",
    "Policy",
    "PolicyFileError",
    "QueueSizes",
    "RetentionPolicy",
    "TextConfig",
    "TriggerConfig",
    "ValueModelConfig",
    "default_database_url",
    "effective_policy",
    "merge_overrides",
    "patronage_home",
]
