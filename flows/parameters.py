"""The flows' parameters: the stage settings and sources each flow takes, as one typed model
that the Prefect UI renders as a form. The company's policy is a parameter of its own
(``patronage.config.Policy``).

No credentials live here: a database password comes from a Prefect ``Secret`` block or a
``PatronageDatabase`` block whose *name* is a parameter, loaded inside the task that connects.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.engine import make_url

from patronage.config import (
    BUNDLED_SAMPLE,
    CasePolicy,
    IdeationConfig,
    IdentityConfig,
    QueueSizes,
    TextConfig,
    ValueModelConfig,
    default_database_url,
)
from patronage.resources.database import PatronageDatabase
from patronage.tasks.io.sources import AnySource


class DatabaseParameters(BaseModel):
    """Which Patronage database a flow uses: a Patronage Database block by name, else a URL
    and the Secret block holding its password."""

    # A refused value (a database URL with a password in it) must not be repeated in the error.
    model_config = ConfigDict(hide_input_in_errors=True)

    database_url: str | None = Field(
        None,
        validate_default=True,
        description="SQLAlchemy URL of the Patronage database, without a password. Empty: $PATRONAGE_DATABASE_URL of the process running the flow, else SQLite at $PATRONAGE_HOME/patronage.db (~/.patronage by default).",
    )
    database_password_secret: str | None = Field(
        None,
        description="Name of a Prefect Secret block holding the database password, if it needs one.",
    )
    database_block: str | None = Field(
        None,
        description="Name of a Patronage Database block; when set it replaces database_url and database_password_secret.",
    )

    def database(self) -> PatronageDatabase:
        """The database the run uses: the named block, else URL and Secret block."""
        if self.database_block:
            return PatronageDatabase.load(self.database_block)
        return PatronageDatabase(
            url=self.database_url, password_secret=self.database_password_secret
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


class NightlyParameters(DatabaseParameters):
    """Everything one nightly run needs. Defaults run on the bundled sample company."""

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
        False,
        description=(
            "Ignore stored cursors and watermarks and read everything again; validate every "
            "row again, also rows that passed unchanged before."
        ),
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
    score_history_days: int = Field(
        730,
        ge=1,
        le=3650,
        description="Each customer's score history (the case page's P(alive) chart) keeps this many days.",
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
    customers_per_partition: int = Field(
        250_000,
        ge=1,
        description="On a Dask cluster, customers per task of scoring (summary, scores, triggers) and of ranking the retention queue; the value models are fitted once from the tasks' counts. In-process all customers are one task.",
    )

    @field_validator("reject_thresholds")
    @classmethod
    def _known_datasets(cls, value: dict[str, float]) -> dict[str, float]:
        from patronage.schemas.contracts import CONTRACTS

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
    ideation: IdeationConfig = Field(default_factory=IdeationConfig)
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    cases: CasePolicy = Field(default_factory=CasePolicy)
    text: TextConfig = Field(default_factory=TextConfig)
    policy_file: str | None = Field(
        None,
        description="The company's policy as a YAML (or JSON) file, e.g. deployments/policy.example.yaml or one written by `patronage backtest --tune`. The flow's `policy` parameter is laid over it: a field set there wins.",
    )


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
    identity: IdentityConfig = Field(default_factory=IdentityConfig)
    text: TextConfig = Field(default_factory=TextConfig)
    policy_file: str | None = Field(
        None,
        description="Policy file to judge (YAML or JSON); the flow's `policy` parameter is laid over it.",
    )

    def cutoffs(self, data_end: date) -> list[date]:
        """The cut-offs, earliest first; without ``as_of`` the latest is ``data_end`` − horizon."""
        from datetime import timedelta

        latest = self.as_of or data_end - timedelta(days=self.horizon_days)
        return [latest - timedelta(days=self.step_days * k) for k in range(self.rolling)][::-1]


class DeliveryParameters(DatabaseParameters):
    """A delivery run: which destination blocks to use and how long to keep retrying."""

    email_block: str | None = Field(
        None, description="Patronage Email Destination block: idea news to customers."
    )
    slack_block: str | None = Field(
        None,
        description="Patronage Slack Destination block: tasks for the community team (suggesters we cannot e-mail).",
    )
    hubspot_block: str | None = Field(
        None, description="Patronage HubSpot Destination block: retention cases as tasks."
    )
    zendesk_block: str | None = Field(
        None, description="Patronage Zendesk Destination block: retention cases as tickets."
    )
    case_destination: Literal["hubspot", "zendesk"] | None = Field(
        None, description="Where retention cases are written; empty: nowhere."
    )
    team_destination: Literal["slack", "email"] | None = Field(
        None,
        description="Where each team's morning digest (new, due today, overdue cases) and SLA-breach alerts go; empty: none.",
    )
    dead_letter_alert_at: int = Field(
        20,
        ge=0,
        description="Dead letters at which the operators (team 'operators' of team_destination) are alerted, once a day; 0: never.",
    )
    digest_hour_utc: int = Field(
        6, ge=0, le=23, description="Digests are sent by the first run at or after this hour (UTC)."
    )
    templates_dir: str | None = Field(
        None,
        description="The company's wording: a folder of <name>.<language>.txt Jinja2 templates (idea_news, community_task, case_task, team_digest, sla_breach, operator_alert); what it lacks comes from Patronage's.",
    )
    links_base_url: str = Field(
        "http://localhost:8000",
        description="Root of the links to items in messages (the Patronage web page).",
    )
    max_seconds: float = Field(
        240, gt=0, le=3600, description="How long one run may keep retrying deferred messages."
    )
    max_attempts: int = Field(
        8, ge=1, le=100, description="Attempts before a message that keeps failing is dead."
    )
    limit: int = Field(100_000, ge=1, description="Messages read per run at most.")

    def destination_blocks(self) -> dict[str, str]:
        """Destination name → block name, for the ones configured."""
        named = {
            "email": self.email_block,
            "slack": self.slack_block,
            "hubspot": self.hubspot_block,
            "zendesk": self.zendesk_block,
        }
        return {k: v for k, v in named.items() if v}
