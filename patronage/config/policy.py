"""The company's policy: how cases are ranked, when behaviour counts as drifting, how soon a case
is due, which team gets it, and which social accounts are the company's own.

Every value here is a company's decision, not Patronage's: the defaults are a starting point,
``brand_handles`` defaults to none. The nightly takes a ``Policy`` as a parameter of its own and
may read one from a YAML (or JSON) file; the file is laid over the defaults and the parameter's
fields that a run sets are laid over the file, nested sections key by key (``effective_policy``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from patronage.config.settings import TriggerConfig, merge_overrides

VALUE_TIERS = ("high_value", "high_potential", "core", "low")
RETENTION_REASONS = (
    "churn_threat",
    "complaint",
    "rotting_ticket",
    "latency_breach",
    "alive_drop",
    "value_at_risk",
)
CONVERSATION_REASONS = ("churn_threat", "complaint", "rotting_ticket")


class PolicyFileError(ValueError):
    """A policy file that cannot be read; the message names the file and the field."""


def _service_levels(conversation: int, behaviour: int) -> dict[str, int]:
    return {r: conversation if r in CONVERSATION_REASONS else behaviour for r in RETENTION_REASONS}


def _default_service_levels() -> dict[str, dict[str, int]]:
    # Managing expectations: a public or stated signal is due sooner than a purely behavioural
    # one, and a high-value customer's sooner than anyone's.
    return {
        "high_value": _service_levels(1, 3),
        "high_potential": _service_levels(2, 5),
        "core": _service_levels(3, 7),
        "low": _service_levels(5, 14),
    }


class RetentionPolicy(BaseModel):
    """How the retention queue ranks customers; ``patronage backtest --tune`` fits it to a
    company's own history and writes it as a policy file."""

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


class Policy(BaseModel):
    """The company's policy for the queues (a nightly parameter; see ``effective_policy``)."""

    model_config = ConfigDict(extra="forbid")

    brand_handles: list[str] = Field(
        default_factory=list,
        description="The company's own social accounts (without @): their posts are the company answering, never a customer or stakeholder speaking. Empty: none.",
    )
    retention: RetentionPolicy = Field(default_factory=RetentionPolicy)
    triggers: TriggerConfig = Field(default_factory=TriggerConfig)
    service_level_days: dict[str, dict[str, int]] = Field(
        default_factory=_default_service_levels,
        description="Days until a case is due, by value tier and reason; a case with several reasons is due at the soonest.",
    )
    team_by_tier: dict[str, str] = Field(
        default_factory=lambda: {
            "high_value": "team:key-accounts",
            "high_potential": "team:growth",
            "core": "team:customer-care",
            "low": "team:customer-care",
        },
        description="Team that owns a case by the customer's value tier (when the CRM names no account owner).",
    )
    team_by_reason: dict[str, str] = Field(
        default_factory=dict,
        description='Team that owns a case with this reason, before the tier\'s team, e.g. {"rotting_ticket": "team:support"}; the first reason in the order churn_threat, complaint, rotting_ticket, latency_breach, alive_drop, value_at_risk decides.',
    )

    @field_validator("brand_handles")
    @classmethod
    def _plain_handles(cls, value: list[str]) -> list[str]:
        return sorted({h.strip().lstrip("@").lower() for h in value if h and h.strip()})

    @field_validator("service_level_days")
    @classmethod
    def _full_table(cls, value: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        _known("service_level_days", value, VALUE_TIERS)
        for tier, days in value.items():
            _known(f"service_level_days.{tier}", days, RETENTION_REASONS)
            if any(d < 0 for d in days.values()):
                raise ValueError(f"service_level_days.{tier}: days must not be negative")
        missing = [
            f"{t}.{r}" for t in VALUE_TIERS for r in RETENTION_REASONS if r not in value.get(t, {})
        ]
        if missing:
            raise ValueError(f"service_level_days: no days for {', '.join(missing)}")
        return value

    @field_validator("team_by_tier")
    @classmethod
    def _every_tier_routed(cls, value: dict[str, str]) -> dict[str, str]:
        _known("team_by_tier", value, VALUE_TIERS)
        missing = [t for t in VALUE_TIERS if not value.get(t)]
        if missing:
            raise ValueError(f"team_by_tier: no team for {', '.join(missing)}")
        return value

    @field_validator("team_by_reason")
    @classmethod
    def _known_reasons(cls, value: dict[str, str]) -> dict[str, str]:
        _known("team_by_reason", value, RETENTION_REASONS)
        return value

    def due_in_days(self, tier: str, reasons: list[str]) -> int:
        """Days until a case of ``tier`` with ``reasons`` is due: the soonest of its reasons."""
        return min(self.service_level_days[tier][r] for r in reasons)

    def team_for(self, tier: str, reasons: list[str]) -> str:
        """The team a case goes to: the first of its reasons that has a team, else its tier's."""
        for reason in RETENTION_REASONS:
            if reason in reasons and reason in self.team_by_reason:
                return self.team_by_reason[reason]
        return self.team_by_tier[tier]

    @classmethod
    def from_file(cls, path: str | Path, overrides: dict[str, Any] | None = None) -> Policy:
        """A policy read from a YAML or JSON file, laid over the defaults, with ``overrides``
        laid over the file.

        Raises:
            PolicyFileError: The file is missing, not YAML, or a field is wrong (named).
        """
        file = Path(path)
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise PolicyFileError(f"{file}: no such policy file") from None
        except yaml.YAMLError as exc:
            raise PolicyFileError(f"{file}: not YAML ({exc})") from None
        if not isinstance(data, dict):
            raise PolicyFileError(f"{file}: a policy file holds a mapping of fields")
        try:
            return cls.model_validate(
                merge_overrides(merge_overrides(cls().model_dump(), data), overrides or {})
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise PolicyFileError(f"{file}: {problems}") from None


def _known(where: str, value: dict, known: tuple[str, ...]) -> None:
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown {', '.join(unknown)}; known: {', '.join(known)}")


def effective_policy(policy: Policy | None, policy_file: str | None) -> Policy:
    """The policy in force: defaults, then ``policy_file`` over them, then the fields the
    ``policy`` parameter sets over that (so a one-field change in the Prefect UI run form wins
    over the file and keeps the rest of it).
    """
    policy = policy or Policy()
    if not policy_file:
        return policy
    return Policy.from_file(policy_file, policy.model_dump(exclude_unset=True))
