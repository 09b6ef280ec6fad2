"""Settings of each stage (value model, triggers, queues, identity, text), typed and described.

Flows compose them into their parameters (``patronage.flows.parameters``), which the Prefect UI
renders as forms. No credentials live here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator

from patronage.config.locations import PACKAGE_DIR

BUNDLED_SAMPLE = PACKAGE_DIR / "sample_data" / "company"
BUNDLED_SAMPLE_AS_OF = date(2026, 10, 31)  # the bundled exports are frozen at this cut-off
# The sample company's own policy (its brand account); the demo passes it explicitly.
BUNDLED_SAMPLE_POLICY = BUNDLED_SAMPLE / "policy.yaml"


class ValueModelConfig(BaseModel):
    """How customer value is computed and tiered."""

    horizon_days: int = Field(365, ge=30, le=3650, description="CLV horizon in days.")
    annual_discount_rate: float = Field(
        0.10, ge=0, le=1, description="Discount rate per year for CLV."
    )
    high_value_share: float = Field(
        0.10, gt=0, lt=1, description="Top share of customers by expected CLV tiered high-value."
    )
    high_potential_share: float = Field(
        0.15,
        gt=0,
        lt=1,
        description="Share tiered high-potential: top predicted value among those with low past revenue.",
    )
    core_share: float = Field(
        0.35, gt=0, lt=1, description="Next share of customers tiered core; the rest are low."
    )
    risk_horizon_days: int = Field(
        90,
        ge=7,
        le=730,
        description="Horizon of the retention priority: value expected to be lost if the customer buys nothing in these days.",
    )
    refit_after_days: int = Field(
        7,
        ge=0,
        le=365,
        description="Fit BG/NBD and Gamma-Gamma again when the fit in use is this many days old (0: every night); between fits every customer is still scored every night with the stored parameters.",
    )
    refit_on_growth: float = Field(
        0.05,
        ge=0,
        le=10,
        description="Also fit again when the customers with orders changed in number by more than this share since the fit in use.",
    )


class TriggerConfig(BaseModel):
    """When a customer's behaviour counts as drifting (Novo's latency trigger and friends)."""

    latency_multiple: float = Field(
        1.5,
        gt=1,
        description="Latency breach when days since last purchase exceed this multiple of the customer's own typical interval.",
    )
    min_repeat_purchases: int = Field(
        2, ge=1, description="Repeat purchases needed before a customer's own rhythm is trusted."
    )
    lapsed_multiple: float = Field(
        6.0,
        gt=1,
        description="Beyond this multiple the customer has lapsed: win-back, not just-in-time retention, and is ranked lower.",
    )
    alive_threshold: float = Field(
        0.5, gt=0, lt=1, description="Alive-drop trigger when P(alive) falls below this."
    )
    alive_drop_points: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="Alive-drop trigger also when P(alive) fell by more than this since the previous run.",
    )
    conversation_window_days: int = Field(
        60, ge=1, description="Conversations newer than this count as evidence."
    )
    rotting_ticket_days: int = Field(
        7, ge=1, description="An unsolved ticket older than this is rotting."
    )


class QueueSizes(BaseModel):
    """How many items each queue publishes."""

    retention: int = Field(
        200, ge=1, le=100_000, description="Open retention cases published at most."
    )
    ideation: int = Field(100, ge=1, le=100_000, description="Idea items published at most.")


class IdeationConfig(BaseModel):
    """How ideas are deduplicated and weighed."""

    merge_threshold: float = Field(
        0.40,
        ge=0,
        le=1,
        description="Similarity of meaning (cosine of sentence embeddings, 0-1) at or above which mentions are the same idea, on average across two groups (was a 0-100 token-set ratio before 0.2).",
    )
    momentum_days: int = Field(30, ge=1, description="Support newer than this counts as momentum.")


class CasePolicy(BaseModel):
    """How retention cases live across runs."""

    reopen_after_days: int = Field(
        30,
        ge=0,
        le=3650,
        description="Days after a person resolved a customer's case before the pipeline may open a new case for that customer.",
    )


class IdentityConfig(BaseModel):
    """How speakers are tied to customers."""

    probabilistic: bool = Field(
        True,
        description="After exact keys, link remaining social authors to customers by display name and location (Fellegi-Sunter).",
    )
    match_threshold: float = Field(
        0.98, gt=0, lt=1, description="Minimum match probability of a probabilistic link."
    )
    review_floor: float = Field(
        0.8,
        gt=0,
        lt=1,
        description="An author's best match at or above this but below match_threshold is kept as a candidate for identity review.",
    )
    phone_region: str = Field(
        "US",
        min_length=2,
        max_length=2,
        description="Region (ISO 3166 alpha-2) in which phone numbers without a country code are read.",
    )
    # 1.5: at a million customers a full refresh peaked at 8.1 GiB with 2 GB here and at
    # 7.3 GiB with 1.5, no slower (116.5 s against 123.6 s to link; spilling was not needed).
    linking_memory_gb: float = Field(
        1.5,
        gt=0,
        description="Memory DuckDB may use for record linkage's candidate pairs (GB); beyond it, it spills to the temporary directory instead of growing.",
    )
    # m and u probabilities describe how names and places are spread, which moves slowly;
    # training costs minutes at a million customers and makes every unknown author be
    # compared with every customer again: so a schedule, and a drift trigger on growth.
    retrain_after_days: int = Field(
        28,
        ge=1,
        description="Train the linking model again when it is this many days old; between trainings a night compares only new or changed authors and customers.",
    )
    retrain_on_growth: float = Field(
        0.2,
        gt=0,
        description="Train the linking model again when the customers and authors it would learn from changed in number by more than this share since it was trained.",
    )

    @field_validator("phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers

        region = value.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            # An unknown region would silently leave every national number unparsed.
            raise ValueError(
                f"phone_region {value!r} is not a region phone numbers are known for "
                "(ISO 3166 alpha-2, e.g. US, DE, GB)"
            )
        return region


class TextConfig(BaseModel):
    """Which models read the text (intent, sentiment, idea grouping)."""

    model_dir: str | None = Field(
        None,
        description="Folder of a company text model written by `patronage text train`; empty: the seed model Patronage ships.",
    )
    encoder_path: str | None = Field(
        None,
        description="ONNX sentence encoder to use instead of the bundled MiniLM (a company's own model); needs tokenizer_path.",
    )
    tokenizer_path: str | None = Field(
        None, description="tokenizer.json matching encoder_path (Hugging Face tokenizers format)."
    )
    quantize_activations: bool = Field(
        True,
        description="Run the encoder with int8 activations (built once from its weights and cached), one text at a time: 1.55× the texts per second, vectors within cosine 0.97 of the exact model's. Off: the exact model. A company text model keeps the encoder it was trained on.",
    )


def merge_overrides(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` laid over it, nested mappings merged key by key.

    Prefect replaces a flow parameter wholesale, so a run that overrides one field of the
    deployment's ``params`` would otherwise drop every other field the deployment set.
    An explicit ``null`` in ``overrides`` wins (it clears the field); lists are replaced.
    """
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_overrides(merged[key], value)
        else:
            merged[key] = value
    return merged
