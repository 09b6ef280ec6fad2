"""The nightly Patronage flow: extract → validate → score → link → build queues → publish."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pandas as pd
from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from patronage.config import NightlyParameters
from schemas.contracts import CONTRACTS
from tasks.build_queues import build_queues
from tasks.io.publish_queues import publish_queues
from tasks.io.read_exports import SOURCE_FAMILIES, extract_source_family
from tasks.io.report_run import report_run
from tasks.link_conversations import link_conversations
from tasks.score_customers import score_customers
from tasks.validate_export import validate_export


class ContractBreachError(RuntimeError):
    """A dataset broke its contract; nothing was published."""


@contextmanager
def _timed(stages: dict, name: str):
    started = time.perf_counter()
    record: dict = {"rows": 0}
    yield record
    stages[name] = {"rows": record["rows"], "seconds": time.perf_counter() - started}


@flow(name="patronage-nightly", log_prints=False)
def nightly(params: NightlyParameters = NightlyParameters()) -> dict:  # noqa: B008 - pydantic default renders as the UI form
    """Turn the night's exports into the retention and ideation queues.

    Fails before publishing when any dataset breaches its contract, so the queues people are
    working from stay as they were.
    """
    logger = get_run_logger()
    as_of = params.as_of or datetime.now(UTC).date()
    run_id = str(flow_run.get_id() or uuid.uuid4())
    stages: dict[str, dict] = {}

    with _timed(stages, "extract") as rec:
        futures = {family: extract_source_family.submit(params.data_location, family)
                   for family in SOURCE_FAMILIES}
        raw = {name: frame for f in futures.values() for name, frame in f.result().items()}
        rec["rows"] = sum(len(f) for f in raw.values())

    with _timed(stages, "validate") as rec:
        valid: dict[str, pd.DataFrame] = {}
        quarantine_frames, breaches, datasets = [], [], {}
        for dataset in CONTRACTS:  # dependency order: references are validated first
            refs = {"customers": set(valid["customers"]["customer_id"])} if "customers" in valid else {}
            if "tickets" in valid:
                refs["tickets"] = set(valid["tickets"]["ticket_id"])
            validation, quarantined = validate_export(
                dataset, raw[dataset], f"{params.data_location}:{dataset}", as_of, refs,
                params.max_reject_share)
            valid[dataset] = validation.valid
            quarantine_frames.append(quarantined)
            breaches += validation.breaches
            datasets[dataset] = {"read": len(raw[dataset]), "valid": len(validation.valid),
                                 "quarantined": len(quarantined),
                                 "unknown_columns": len(validation.unknown_columns)}
        rec["rows"] = sum(len(f) for f in valid.values())
    if breaches:
        raise ContractBreachError("contract breach, nothing published:\n" + "\n".join(breaches))

    with _timed(stages, "score_customers") as rec:
        scores, model = score_customers(valid["customers"], valid["orders"], as_of,
                                        params.value_model, params.triggers)
        rec["rows"] = len(scores)
    with _timed(stages, "link_conversations") as rec:
        conversations, stakeholders = link_conversations(
            valid["customers"], valid["social_posts"], valid["tickets"],
            valid["ticket_comments"], valid["ideas"])
        rec["rows"] = len(conversations)
    with _timed(stages, "build_queues") as rec:
        retention, ideation, supporters = build_queues(
            scores, conversations, stakeholders, valid["tickets"], as_of, params.triggers,
            params.ideation, params.queue_sizes)
        rec["rows"] = len(retention) + len(ideation)

    published: dict | None = None
    if not params.dry_run:
        with _timed(stages, "publish") as rec:
            published = publish_queues(
                params.database_url, params.database_password_secret, run_id, flow_run.get_id(),
                as_of, retention, ideation, supporters, pd.concat(quarantine_frames, ignore_index=True))
            rec["rows"] = published["retention"] + published["ideation"]

    summary = {
        "run_id": run_id, "as_of": as_of.isoformat(), "published": not params.dry_run,
        "datasets": datasets, "stages": stages, "model": model,
        "queues": {"retention": len(retention), "ideation": len(ideation),
                   "idea_supporters": len(supporters), "stakeholders": len(stakeholders)},
        "queues_changed": None if published is None
        else published["fingerprint_before"] != published["fingerprint_after"],
    }
    report_run(summary, retention, ideation)
    logger.info("Run %s as of %s: %d retention cases, %d ideas", run_id, as_of,
                len(retention), len(ideation))
    return summary


def run_nightly(params: NightlyParameters) -> dict:
    """Run the flow in-process (the CLI's entry point)."""
    return nightly(params)


def as_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)
