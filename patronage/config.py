"""Typed configuration: what the nightly flow takes as parameters (rendered as a form in the UI).

No credentials live here: a database password comes from a Prefect ``Secret`` block whose *name*
is a parameter, loaded inside the task that connects.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.engine import make_url

from patronage.database import default_database_url
from tasks.io.sources import AnySource

BUNDLED_SAMPLE = Path(__file__).parent / "sample_data" / "company"
BUNDLED_SAMPLE_AS_OF = date(2026, 10, 31)  # the bundled exports are frozen at this cut-off


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


class RetentionPolicy(BaseModel):
    """How the retention queue ranks customers; `patronage backtest --tune` fits it to a
    company's own history and writes it as a file (``policy_file``)."""

    evidence_odds: dict[str, float] = Field(
        default_factory=lambda: {"churn_threat": 3.0, "complaint": 1.5, "rotting_ticket": 1.5},
        description="Odds multiplier of P(stops buying) per conversation signal (churn_threat, complaint, rotting_ticket); 1 = no effect.",
    )
    urgency_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "churn_threat": 1.0,
            "complaint": 0.5,
            "rotting_ticket": 0.5,
            "latency_breach": 0.5,
            "alive_drop": 0.25,
        },
        description="Weight of each reason in a case's urgency.",
    )
    urgency_scale: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Priority = expected value lost × (1 + urgency_scale × Σ reason weights): urgency orders cases of similar value at risk.",
    )
    lapsed_factor: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Priority multiplier for lapsed customers (past the just-in-time window) with behavioural reasons only.",
    )
    entry_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Customers in this top share by expected value lost enter the queue even without a trigger (reason value_at_risk).",
    )
    fitted_on: str | None = Field(
        None, description="Where the values come from (written by backtest --tune)."
    )

    @field_validator("evidence_odds")
    @classmethod
    def _known_signals(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - {"churn_threat", "complaint", "rotting_ticket"})
        if unknown:
            raise ValueError(f"evidence_odds: unknown signal(s) {', '.join(unknown)}")
        if any(v <= 0 for v in value.values()):
            raise ValueError("evidence_odds: multipliers must be positive")
        return value

    @classmethod
    def from_file(cls, path: str | Path) -> RetentionPolicy:
        """Read a policy file (JSON); the error names the file and the field."""
        import json

        file = Path(path)
        try:
            return cls.model_validate(json.loads(file.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ValueError(f"{file}: no such policy file") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"{file}: not JSON ({exc})") from None
        except ValueError as exc:
            raise ValueError(f"{file}: {exc}") from None


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
    phone_region: str = Field(
        "US",
        min_length=2,
        max_length=2,
        description="Region (ISO 3166 alpha-2) in which phone numbers without a country code are read.",
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


class NightlyParameters(BaseModel):
    """Everything one nightly run needs. Defaults run on the bundled sample company."""

    # A refused value (a database URL with a password in it) must not be repeated in the error.
    model_config = ConfigDict(hide_input_in_errors=True)

    data_location: str = Field(
        str(BUNDLED_SAMPLE),
        description="Folder with the raw exports (crm/, social/, support/, ideas/), used when no sources are configured.",
    )
    sources: list[AnySource] = Field(
        default_factory=list,
        description="Sources to read; empty means sources_file, else the files in data_location.",
    )
    sources_file: str | None = Field(
        None, description="YAML file listing sources (see deployments/sources.example.yaml)."
    )
    full_refresh: bool = Field(
        False, description="Ignore stored cursors and watermarks and read everything again."
    )
    database_url: str | None = Field(
        None,
        validate_default=True,
        description="SQLAlchemy URL of the Patronage database, without a password. Empty: $PATRONAGE_DATABASE_URL of the process running the flow, else SQLite at $PATRONAGE_HOME/patronage.db (~/.patronage by default).",
    )
    database_password_secret: str | None = Field(
        None,
        description="Name of a Prefect Secret block holding the database password, if it needs one.",
    )
    as_of: date | None = Field(
        None, description="Cut-off date of the run; empty means today (UTC)."
    )
    dry_run: bool = Field(False, description="Build the queues but do not publish them.")
    privacy_key_secret: str | None = Field(
        None,
        description="Prefect Secret block holding the key of the erasure suppression list's HMACs; empty: this machine's $PATRONAGE_HOME/privacy.key.",
    )
    quarantine_retention_days: int = Field(
        90,
        ge=1,
        le=3650,
        description="Quarantined raw rows first seen longer ago than this are deleted.",
    )
    max_quiet_runs: int = Field(
        7,
        ge=0,
        le=365,
        description="An incremental source that used to bring rows and brought none in this many published runs in a row fails the run as stuck (0: never).",
    )
    queue_sizes: QueueSizes = Field(default_factory=QueueSizes)
    max_reject_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Share of a dataset's rows that may be quarantined before the run fails.",
    )
    reject_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description='Per-dataset overrides of max_reject_share, e.g. {"social_posts": 0.2}.',
    )
    data_docs_dir: str | None = Field(
        None, description="Folder to write a Great Expectations Data Docs site into (optional)."
    )

    @field_validator("reject_thresholds")
    @classmethod
    def _known_datasets(cls, value: dict[str, float]) -> dict[str, float]:
        from schemas.contracts import CONTRACTS

        unknown = sorted(set(value) - set(CONTRACTS))
        if unknown:
            raise ValueError(
                f"reject_thresholds: unknown dataset(s) {', '.join(unknown)}; "
                f"known: {', '.join(CONTRACTS)}"
            )
        bad = sorted(k for k, v in value.items() if not 0 <= v <= 1)
        if bad:
            raise ValueError(
                f"reject_thresholds: shares must be between 0 and 1 ({', '.join(bad)})"
            )
        return value

    def reject_threshold(self, dataset: str) -> float:
        """The share of ``dataset``'s rows that may be quarantined before the run fails."""
        return self.reject_thresholds.get(dataset, self.max_reject_share)

    value_model: ValueModelConfig = Field(default_factory=ValueModelConfig)
    triggers: TriggerConfig = Field(default_factory=TriggerConfig)
    ideation: IdeationConfig = Field(default_factory=IdeationConfig)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    cases: CasePolicy = Field(default_factory=CasePolicy)
    text: TextConfig = Field(default_factory=TextConfig)
    retention_policy: RetentionPolicy = Field(default_factory=RetentionPolicy)
    policy_file: str | None = Field(
        None,
        description="JSON policy written by `patronage backtest --tune`; when set it replaces retention_policy.",
    )

    def policy(self) -> RetentionPolicy:
        """The retention policy in force: ``policy_file``'s if set, else ``retention_policy``."""
        return (
            RetentionPolicy.from_file(self.policy_file)
            if self.policy_file
            else self.retention_policy
        )

    @field_validator("database_url")
    @classmethod
    def _no_password_in_url(cls, value: str | None) -> str:
        value = value or default_database_url()
        if make_url(value).password:
            raise ValueError(
                "database_url must not contain a password (parameters are visible in the Prefect "
                "UI); put it in a Secret block and name it in database_password_secret"
            )
        return value


class BacktestParameters(BaseModel):
    """A backtest: the queue rebuilt at past cut-offs, judged on what customers did next."""

    data_location: str = Field(
        str(BUNDLED_SAMPLE),
        description="Folder with the raw exports, used when no sources are configured.",
    )
    sources: list[AnySource] = Field(
        default_factory=list,
        description="Sources to read; empty means sources_file, else data_location.",
    )
    sources_file: str | None = Field(None, description="YAML file listing sources.")
    as_of: date | None = Field(
        None,
        description="The (latest) past cut-off: the queue is built with data up to this day only. Empty: the latest day that can be judged (the data's last day minus horizon_days).",
    )
    horizon_days: int = Field(
        90,
        ge=7,
        le=730,
        description="Days after each cut-off in which buying nothing counts as stopping.",
    )
    rolling: int = Field(
        1, ge=1, le=24, description="Number of cut-offs: as_of and the ones step_days before it."
    )
    step_days: int = Field(30, ge=1, le=365, description="Days between rolling cut-offs.")
    tune: bool = Field(
        False,
        description="Fit the retention policy on the earlier cut-offs, judge it on the latest, and write it to policy_out.",
    )
    policy_out: str | None = Field(
        None, description="Where --tune writes the policy file (default: out_dir/policy.json)."
    )
    out_dir: str | None = Field(
        None,
        description="Folder for backtest.json and the charts (default: $PATRONAGE_HOME/backtests/<cut-off>).",
    )
    value_model: ValueModelConfig = Field(default_factory=ValueModelConfig)
    triggers: TriggerConfig = Field(default_factory=TriggerConfig)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    text: TextConfig = Field(default_factory=TextConfig)
    retention_policy: RetentionPolicy = Field(default_factory=RetentionPolicy)
    policy_file: str | None = Field(
        None, description="Policy file to judge instead of retention_policy."
    )

    def policy(self) -> RetentionPolicy:
        """The policy judged: ``policy_file``'s if set, else ``retention_policy``."""
        return (
            RetentionPolicy.from_file(self.policy_file)
            if self.policy_file
            else self.retention_policy
        )

    def cutoffs(self, data_end: date) -> list[date]:
        """The cut-offs, earliest first; without ``as_of`` the latest is ``data_end`` − horizon."""
        from datetime import timedelta

        latest = self.as_of or data_end - timedelta(days=self.horizon_days)
        return [latest - timedelta(days=self.step_days * k) for k in range(self.rolling)][::-1]


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
