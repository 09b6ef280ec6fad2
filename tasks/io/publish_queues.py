"""Publish the queues into the Patronage database in one transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from dataclasses import fields as dc_fields
from datetime import UTC, date, datetime

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Connection, Engine, Table, delete, exists, select, text, update

from patronage.resources.database import PatronageDatabase, ensure_schema, lock_for_writing
from patronage.schemas.tables import (
    QUEUE_TABLES,
    customer_scores,
    idea_supporters,
    ideation_items,
    model_runs,
    publish_runs,
    quarantine,
    retention_cases,
    work_log,
)
from patronage.tasks.io.case_context import (
    replace_case_purchases,
    replace_identity_candidates,
    save_score_history,
)
from patronage.tasks.io.identity_links import save_identity_links, save_profile_linking
from patronage.tasks.io.outbox import upsert_contact_points
from patronage.tasks.io.source_progress import save_source_progress
from patronage.tasks.io.sources import Extraction
from patronage.tasks.io.sql_upsert import CHUNK, _plain, records, upsert, upsert_frame
from patronage.tasks.transforms.linking.probable_links import ProfileLinking
from patronage.tasks.transforms.membership import is_in
from patronage.tasks.transforms.queues.case_episodes import (
    EXISTING_COLUMNS,
    assign_case_episodes,
    keep_due_dates,
)
from patronage.tasks.transforms.validation.row_fingerprint import row_fingerprint


def soft_close_missing(
    conn: Connection,
    table: Table,
    key: str,
    current: set[str],
    untouched_status: str,
    reason: str,
    queue: str,
) -> int:
    """Close open items this run no longer produces, unless a person has touched them.

    Touched means claimed, moved on from the untouched status, snoozed, or anything in the
    work log (a note, a release…): such an item stays until a person closes it, so a snoozed
    case comes back on its date and nobody's note disappears with it.
    """
    key_col = table.c[key]
    untouched = (
        table.c.pipeline_state == "open",
        table.c.status == untouched_status,
        table.c.assignee.is_(None),
        table.c.snoozed_until.is_(None),
        ~exists().where(work_log.c.queue == queue, work_log.c.item_key == key_col),
    )
    candidates = conn.execute(select(key_col).where(*untouched)).scalars().all()
    stale = sorted(set(candidates) - current)
    closed = 0
    for start in range(0, len(stale), CHUNK):
        # Conditions again in the UPDATE: a worker may claim an item between the read and the
        # write; PostgreSQL then waits for the claim and re-checks the row, skipping it.
        closed += conn.execute(
            update(table)
            .where(key_col.in_(stale[start : start + CHUNK]), *untouched)
            .values(pipeline_state="closed", closed_reason=reason)
        ).rowcount
    return closed


def queue_fingerprint(engine: Engine) -> str:
    """A hash of every queue table's content, to tell whether a publish changed anything."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in QUEUE_TABLES:
            keys = [c for c in table.primary_key.columns]
            for row in conn.execute(select(table).order_by(*keys)):
                digest.update(json.dumps([str(v) for v in row], ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


def quarantine_rows(frame: pd.DataFrame, run_id: str, seen_at: datetime) -> list[dict]:
    """Rows for the quarantine table; the fingerprint keeps one row per distinct raw row."""
    out = []
    for row in frame.itertuples(index=False):
        out.append(
            {
                "dataset": row.dataset,
                "source": row.source,
                "row_key": row.row_key,
                "row_fingerprint": row_fingerprint(row.raw_row),
                "failed_expectations": ",".join(row.reasons),
                "raw_row": json.dumps(row.raw_row, sort_keys=True, ensure_ascii=False),
                "first_run_id": run_id,
                "first_seen": seen_at,
                "last_run_id": run_id,
                "status": "quarantined",
            }
        )
    return out


def write_quarantine(
    conn: Connection,
    quarantined: pd.DataFrame,
    run_id: str,
    now: datetime,
    released_ids: Sequence[int] = (),
    refailed: pd.DataFrame | None = None,
) -> None:
    """Keep every rejected row (never deleted); mark operator fixes as released or failed again.

    A row seen before keeps its first run and status; its latest reasons and run are updated.
    """
    upsert(
        conn,
        quarantine,
        quarantine_rows(quarantined, run_id, now),
        ["dataset", "row_fingerprint"],
        ["failed_expectations", "last_run_id"],
    )
    for start in range(0, len(released_ids), CHUNK):
        conn.execute(
            update(quarantine)
            .where(quarantine.c.id.in_(list(released_ids)[start : start + CHUNK]))
            .values(status="released", released_run_id=run_id, last_run_id=run_id)
        )
    if refailed is not None:
        for row in refailed.itertuples(index=False):
            conn.execute(
                update(quarantine)
                .where(quarantine.c.id == int(row.quarantine_id))
                .values(
                    status="quarantined",
                    last_run_id=run_id,
                    failed_expectations=",".join(row.reasons),
                )
            )


SCORE_COLUMNS = [
    "customer_id",
    "p_alive",
    "expected_clv",
    "clv_if_retained",
    "value_at_risk",
    "value_tier",
    "rfm_segment",
    "latency_since",
    "alive_drop_since",
]


def save_scores(
    conn: Connection, scores: pd.DataFrame, model: dict, run_id: str, as_of: date, now: datetime
) -> None:
    """Keep this run's fit (one row) and each customer's latest scores for the next run."""
    conn.execute(
        model_runs.insert().values(
            run_id=run_id,
            as_of=as_of,
            bgnbd_r=model["r"],
            bgnbd_alpha=model["alpha"],
            bgnbd_a=model["a"],
            bgnbd_b=model["b"],
            bgnbd_log_likelihood=model["bgnbd_ll"],
            bgnbd_method=model["bgnbd_method"],
            gamma_gamma_p=model["gamma_gamma_p"],
            gamma_gamma_q=model["gamma_gamma_q"],
            gamma_gamma_v=model["gamma_gamma_v"],
            gamma_gamma_log_likelihood=_plain(model["gamma_gamma_ll"]),
            gamma_gamma_method=model["gamma_gamma_method"],
            n_customers=model["n_customers"],
            n_repeat_customers=model["n_repeat_customers"],
            text_model_version=model.get("text_model_version"),
            text_encoder=model.get("text_encoder"),
            fitted_as_of=model.get("fitted_as_of", as_of),
            created_at=now,
        )
    )
    frame = scores[SCORE_COLUMNS].assign(as_of=as_of, run_id=run_id)
    for column in ("latency_since", "alive_drop_since"):  # dates, not time stamps
        if frame[column].dtype.kind == "M":
            frame[column] = frame[column].dt.date
    upsert_frame(
        conn,
        customer_scores,
        frame,
        ["customer_id"],
        [c for c in SCORE_COLUMNS if c != "customer_id"] + ["as_of", "run_id"],
    )


RETENTION_PIPELINE_COLUMNS = [
    "customer_id",
    "value_tier",
    "clv",
    "value_at_risk",
    "priority_score",
    "priority_rank",
    "reason_codes",
    "evidence",
    "goal",
    "playbook",
    "owner",
    "due_date",
    "pipeline_state",
    "closed_reason",
]
IDEATION_PIPELINE_COLUMNS = [
    "title",
    "n_mentions",
    "n_supporters",
    "customer_supporters",
    "stakeholder_supporters",
    "votes",
    "priority_score",
    "priority_rank",
    "first_seen",
    "last_activity",
    "momentum",
    "pipeline_state",
    "closed_reason",
]


def existing_cases(conn: Connection) -> pd.DataFrame:
    """Every published retention case's key, customer and people's resolution."""
    query = select(*(retention_cases.c[c] for c in EXISTING_COLUMNS))
    return pd.read_sql(query, conn)


def replace_supporters(conn: Connection, supporters: pd.DataFrame, idea_keys: set[str]) -> int:
    """Make each published idea's supporters exactly this run's: upsert them and remove pairs
    no longer behind the idea (a split, a changed clustering). Returns pairs removed."""
    upsert(
        conn,
        idea_supporters,
        records(supporters),
        ["idea_key", "supporter_id"],
        ["supporter_kind", "weight", "conversation_id", "excerpt"],
    )
    current = set(zip(supporters["idea_key"], supporters["supporter_id"], strict=True))
    keys = sorted(idea_keys)
    stale: list[tuple[str, str]] = []
    for start in range(0, len(keys), CHUNK):
        pairs = conn.execute(
            select(idea_supporters.c.idea_key, idea_supporters.c.supporter_id).where(
                idea_supporters.c.idea_key.in_(keys[start : start + CHUNK])
            )
        ).all()
        stale += [tuple(p) for p in pairs if tuple(p) not in current]
    for idea_key, supporter_id in stale:
        conn.execute(
            delete(idea_supporters).where(
                idea_supporters.c.idea_key == idea_key,
                idea_supporters.c.supporter_id == supporter_id,
            )
        )
    return len(stale)


def publish_to_engine(
    engine: Engine,
    run_id: str,
    flow_run_id: str | None,
    as_of: date,
    retention: pd.DataFrame,
    ideation: pd.DataFrame,
    supporters: pd.DataFrame,
    quarantined: pd.DataFrame,
    extractions: Sequence[Extraction] = (),
    released_ids: Sequence[int] = (),
    refailed: pd.DataFrame | None = None,
    scores: pd.DataFrame | None = None,
    model: dict | None = None,
    identity_links: pd.DataFrame | None = None,
    reopen_after_days: int = 30,
    contacts: pd.DataFrame | None = None,
    purchases: pd.DataFrame | None = None,
    identity_candidates: pd.DataFrame | None = None,
    score_history_days: int = 730,
    phone_region: str = "US",
    profile_linking: ProfileLinking | None = None,
    full_refresh: bool = False,
) -> dict[str, int]:
    """Publish everything in one transaction; on any error nothing of this run is kept.

    Incremental sources' rows and cursors/watermarks are saved in the same transaction, so a
    source only advances when the queues built from its rows are published (at-least-once).
    People-owned columns are never written here; a customer whose last case was resolved gets
    a new case only ``reopen_after_days`` after the resolution.
    """
    ensure_schema(engine)
    now = datetime.now(UTC).replace(tzinfo=None)
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        # Wait behind workers' claims (SQLite would rather fail than upgrade a read lock) and
        # behind another publish (PostgreSQL), instead of interleaving with them.
        lock_for_writing(conn)
        # An idea a person merged away stays closed even if the clustering still finds it.
        merged = set(
            conn.execute(
                select(ideation_items.c.idea_key).where(ideation_items.c.merged_into.is_not(None))
            ).scalars()
        )
        # Frames from before momentum and excerpts existed publish with those left empty.
        ideation = ideation[~is_in(ideation["idea_key"], merged)].reindex(
            columns=list(dict.fromkeys([*ideation.columns, "momentum"]))
        )
        supporters = supporters[~is_in(supporters["idea_key"], merged)].reindex(
            columns=list(dict.fromkeys([*supporters.columns, "excerpt"]))
        )
        published_cases = existing_cases(conn)
        retention = retention.assign(
            case_id=assign_case_episodes(retention, published_cases, now, reopen_after_days)
        )
        retention = retention.assign(due_date=keep_due_dates(retention, published_cases))
        retention_rows = records(
            retention.assign(pipeline_state="open", closed_reason=None, opened_at=now)
        )
        idea_rows = records(
            ideation.assign(pipeline_state="open", closed_reason=None, opened_at=now)
        )
        upsert(conn, retention_cases, retention_rows, ["case_id"], RETENTION_PIPELINE_COLUMNS)
        upsert(conn, ideation_items, idea_rows, ["idea_key"], IDEATION_PIPELINE_COLUMNS)
        counts["supporters_removed"] = replace_supporters(
            conn, supporters, set(ideation["idea_key"])
        )
        counts["retention_closed"] = soft_close_missing(
            conn,
            retention_cases,
            "case_id",
            set(retention["case_id"]),
            "open",
            "no longer at risk or below the queue cut-off",
            "retention",
        )
        counts["ideation_closed"] = soft_close_missing(
            conn,
            ideation_items,
            "idea_key",
            set(ideation["idea_key"]),
            "new",
            "no longer produced (merged or below the queue cut-off)",
            "ideation",
        )
        write_quarantine(conn, quarantined, run_id, now, released_ids, refailed)
        save_source_progress(conn, list(extractions), run_id, now)
        if scores is not None and model is not None:
            counts["score_history"] = save_score_history(
                conn, scores, run_id, as_of, score_history_days
            )
            save_scores(conn, scores, model, run_id, as_of, now)
        if purchases is not None:
            counts["case_purchases"] = replace_case_purchases(conn, purchases)
        if identity_candidates is not None:
            counts["identity_candidates"] = replace_identity_candidates(
                conn, identity_candidates, run_id, now
            )
        if identity_links is not None:
            save_identity_links(conn, identity_links, run_id, now)
            counts["identity_links"] = len(identity_links)
        # Saved with the near misses it goes with; a night that compared nothing (linking off,
        # too little to learn from) leaves no memory, so the next one compares everything.
        save_profile_linking(conn, profile_linking, run_id, now)
        if contacts is not None:
            counts["contact_points"] = upsert_contact_points(
                conn, contacts, phone_region, compare_all=full_refresh
            )
        counts.update(
            retention=len(retention),
            ideation=len(ideation),
            supporters=len(supporters),
            quarantined=len(quarantined),
            released=len(released_ids),
        )
        if conn.dialect.name == "postgresql":
            # Fresh statistics for the queues people page through right after the nightly
            # (autovacuum's analyze may come minutes later; a stale plan scans every case).
            conn.execute(text("ANALYZE retention_cases, ideation_items, idea_supporters"))
        conn.execute(
            publish_runs.insert().values(
                run_id=run_id,
                flow_run_id=flow_run_id,
                as_of=as_of,
                published_at=now,
                counts=json.dumps(counts, sort_keys=True),
            )
        )
    return counts


@dataclass(repr=False)
class PublishBatch:
    """Everything one run publishes, in one transaction (``publish_to_engine``).

    Attributes:
        run_id: The run's id (the Prefect flow run id when there is one).
        flow_run_id: The Prefect flow run, for the audit row.
        as_of: The run's cut-off date.
        retention: Retention cases (``build_retention_queue``).
        ideation: Idea items (``build_ideation_queue``).
        supporters: One row per (idea, supporter).
        quarantined: Newly rejected raw rows with reasons.
        extractions: What each source read, with its new cursor or watermark.
        released_ids: Quarantine entries whose fix passed.
        refailed: Quarantine entries whose fix failed again.
        scores: One row per customer with value scores.
        model: Fitted value-model parameters and the text model in use.
        identity_links: Probabilistic author links to keep.
        reopen_after_days: Days after a resolution before a customer's case may reopen.
        contacts: Tonight's CRM customers (``customer_id``, ``email``, optional ``language``
            and ``opted_out``): the addresses the closed loop to suggesters uses.
        purchases: Latest orders of customers with a case (``latest_purchases``).
        identity_candidates: Author–customer pairs just below the linking threshold.
        score_history_days: Score history rows older than this are deleted.
        phone_region: Region the night read numbers without a country code in.
        profile_linking: Record linkage's memory for the next night (model, profiles compared).
        full_refresh: Write every customer's contact point again, changed or not.
    """

    run_id: str
    flow_run_id: str | None
    as_of: date
    retention: pd.DataFrame
    ideation: pd.DataFrame
    supporters: pd.DataFrame
    quarantined: pd.DataFrame
    extractions: list[Extraction] = dc_field(default_factory=list)
    released_ids: list[int] = dc_field(default_factory=list)
    refailed: pd.DataFrame | None = None
    scores: pd.DataFrame | None = None
    model: dict | None = None
    identity_links: pd.DataFrame | None = None
    reopen_after_days: int = 30
    contacts: pd.DataFrame | None = None
    purchases: pd.DataFrame | None = None
    identity_candidates: pd.DataFrame | None = None
    score_history_days: int = 730
    phone_region: str = "US"
    profile_linking: ProfileLinking | None = None
    full_refresh: bool = False

    def __repr__(self) -> str:
        # Task arguments are logged by repr on failure: counts only, never rows.
        return (
            f"PublishBatch(run {self.run_id}, {len(self.retention)} cases, "
            f"{len(self.ideation)} ideas, {len(self.quarantined)} quarantined)"
        )


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def publish_queues(database: PatronageDatabase, batch: PublishBatch) -> dict[str, object]:
    """Upsert both queues, soft-close what is gone, keep quarantine, audit the run."""
    fields = {f.name: getattr(batch, f.name) for f in dc_fields(batch)}
    with database.engine() as engine:
        ensure_schema(engine)
        before = queue_fingerprint(engine)
        counts = publish_to_engine(engine, **fields)
        after = queue_fingerprint(engine)
    get_run_logger().info(
        "Published %s retention cases and %s ideas (queues changed: %s)",
        counts["retention"],
        counts["ideation"],
        before != after,
    )
    return {**counts, "fingerprint_before": before, "fingerprint_after": after}


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def record_quarantine(
    database: PatronageDatabase,
    run_id: str,
    quarantined: pd.DataFrame,
    refailed: pd.DataFrame,
) -> int:
    """Keep a failed run's rejected rows (its queues are not touched): they are never lost."""
    with database.engine() as engine:
        ensure_schema(engine)
        with engine.begin() as conn:
            write_quarantine(
                conn, quarantined, run_id, datetime.now(UTC).replace(tzinfo=None), refailed=refailed
            )
    return len(quarantined)
