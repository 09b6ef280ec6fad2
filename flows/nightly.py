"""The nightly Patronage flow: extract → validate → score → link → build queues → publish."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import pandas as pd
from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.states import Failed, State

from patronage.config import NightlyParameters, merge_overrides
from schemas.contracts import CONTRACTS
from tasks.build_queues import build_queues
from tasks.drop_erased_people import drop_erased_people, read_suppressions, record_privacy_upkeep
from tasks.io.backtest_report import read_last_backtest
from tasks.io.extract_source import extract_source
from tasks.io.idea_overrides import read_idea_overrides
from tasks.io.identity_links import read_identity_links
from tasks.io.identity_overrides import read_identity_overrides
from tasks.io.previous_scores import read_previous_scores
from tasks.io.publish_queues import publish_queues, record_quarantine
from tasks.io.quarantine_fixes import read_quarantine_fixes
from tasks.io.report_run import emit_contract_breaches, report_run, report_validation
from tasks.io.run_parameters import read_deployment_parameters
from tasks.io.source_progress import merge_incremental, read_source_progress
from tasks.io.sources import Extraction, resolve_sources
from tasks.io.sources.base import settled_watermark, stuck_source
from tasks.io.text_corrections import read_text_corrections
from tasks.io.text_embeddings import read_text_embeddings, store_text_embeddings
from tasks.link_conversations import link_conversations
from tasks.score_customers import score_customers
from tasks.transforms.text_encoder import load_encoder
from tasks.transforms.text_signals import load_stored_vectors, model_version, new_vectors
from tasks.validate_export import ExportValidation, validate_export


class ContractBreachError(RuntimeError):
    """A dataset broke its contract; nothing was published."""


@contextmanager
def _timed(stages: dict, name: str):
    started = time.perf_counter()
    record: dict = {"rows": 0}
    yield record
    stages[name] = {"rows": record["rows"], "seconds": time.perf_counter() - started}


def assemble_datasets(
    extractions: list[Extraction], stored: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """One raw frame per dataset: snapshots as read, incremental rows merged into stored ones."""
    raw: dict[str, pd.DataFrame] = {}
    for dataset in CONTRACTS:
        mine = [e for e in extractions if e.dataset == dataset]
        if not mine:
            continue
        frames = [e.frame for e in mine if not e.incremental]
        incremental = [e.frame for e in mine if e.incremental]
        if incremental:
            frames.append(
                merge_incremental(
                    stored.get(dataset), pd.concat(incremental, ignore_index=True), dataset
                )
            )
        raw[dataset] = (
            pd.concat(frames, ignore_index=True).fillna("") if len(frames) > 1 else frames[0]
        )
    return raw


def effective_parameters(params: NightlyParameters) -> NightlyParameters:
    """The run's parameters with a deployment's settings kept under a partial override.

    ``prefect deployment run --params '{"params": {"dry_run": true}}'`` replaces the whole
    ``params`` object; merged onto the deployment's stored value, every field the override
    does not name keeps the deployment's setting instead of falling back to the default.
    """
    stored = read_deployment_parameters("params")
    if stored is None:
        return params
    deployment_value, run_value = stored
    return NightlyParameters.model_validate(merge_overrides(deployment_value, run_value))


@flow(name="patronage-nightly", log_prints=False)
def nightly(params: NightlyParameters = NightlyParameters()) -> dict | State:  # noqa: B008 - pydantic default renders as the UI form
    """Turn the night's exports into the retention and ideation queues.

    Fails before publishing when any dataset breaches its contract, so the queues people are
    working from stay as they were. The run ends Failed with the breach as its message (one
    line per breach, no traceback); calling the flow raises ``ContractBreachError``.
    """
    try:
        return _nightly(params)
    except ContractBreachError as exc:
        return Failed(message=str(exc), data=exc)


def _nightly(params: NightlyParameters) -> dict:
    logger = get_run_logger()
    params = effective_parameters(params)
    as_of = params.as_of or datetime.now(UTC).date()
    run_id = str(flow_run.get_id() or uuid.uuid4())
    stages: dict[str, dict] = {}

    sources = resolve_sources(params.sources, params.sources_file, params.data_location)
    with _timed(stages, "extract") as rec:
        states, stored = read_source_progress(
            params.database_url,
            params.database_password_secret,
            sorted({s.dataset for s in sources if s.is_incremental}),
        )
        futures = [
            extract_source.submit(source, states.get(source.name, {}), params.full_refresh)
            for source in sources
        ]
        extractions = [f.result() for f in futures]
        # Erased people's rows go before anything about them is validated, stored or scored.
        suppressed = read_suppressions(params.database_url, params.database_password_secret)
        erased_dropped, learned_suppressions = drop_erased_people(
            extractions, suppressed, params.privacy_key_secret, params.identity.phone_region
        )
        for extraction in extractions:
            if extraction.incremental:
                before = states.get(extraction.source, {})
                extraction.last_rows_at = before.get("last_rows_at")
                extraction.quiet_runs = (
                    0 if len(extraction.frame) else int(before.get("quiet_runs") or 0) + 1
                )
        raw = assemble_datasets(extractions, stored)
        rec["rows"] = sum(len(e.frame) for e in extractions)

    with _timed(stages, "validate") as rec:
        fixes = read_quarantine_fixes(params.database_url, params.database_password_secret)
        valid: dict[str, pd.DataFrame] = {}
        outcomes: dict[str, ExportValidation] = {}
        breaches: dict[str, list[str]] = {}
        for dataset in CONTRACTS:  # dependency order: references are validated first
            if dataset not in raw:
                breaches[dataset] = [f"{dataset}: no source feeds this dataset"]
                continue
            refs = {
                name: set(valid[name][CONTRACTS[name].keys[0]])
                for name in ("customers", "tickets")
                if name in valid
            }
            # A breach ends the dataset's task Failed; its outcome still goes to quarantine.
            outcome = validate_export(
                dataset,
                raw[dataset],
                ",".join(e.source for e in extractions if e.dataset == dataset),
                as_of,
                refs,
                params.reject_threshold(dataset),
                fixes[fixes["dataset"] == dataset],
                return_state=True,
            ).result(raise_on_failure=False)
            outcomes[dataset] = outcome
            valid[dataset] = outcome.validation.valid
            if outcome.validation.breaches:
                breaches[dataset] = outcome.validation.breaches
        rec["rows"] = sum(len(f) for f in valid.values())
    quarantined = pd.concat([o.quarantined for o in outcomes.values()], ignore_index=True)
    released_ids = sorted(i for o in outcomes.values() for i in o.released_ids)
    refailed = pd.concat([o.refailed for o in outcomes.values()], ignore_index=True)
    datasets = {
        name: {
            "read": len(raw[name]),
            "valid": len(o.validation.valid),
            "quarantined": len(o.quarantined),
            "released": len(o.released_ids),
            "unknown_columns": len(o.validation.unknown_columns),
            "normalised": o.validation.normalised_cells,
        }
        for name, o in outcomes.items()
    }
    for extraction in extractions:
        stuck = stuck_source(extraction, params.max_quiet_runs)
        if stuck:
            breaches.setdefault(extraction.dataset, []).append(stuck)
    breach_lines = [line for lines in breaches.values() for line in lines]
    report_validation(outcomes, breach_lines, params.data_docs_dir)
    if breaches:
        if not params.dry_run:
            record_quarantine(
                params.database_url, params.database_password_secret, run_id, quarantined, refailed
            )
        emit_contract_breaches(outcomes, breaches)
        raise ContractBreachError("contract breach, nothing published:\n" + "\n".join(breach_lines))

    with _timed(stages, "score_customers") as rec:
        previous = read_previous_scores(params.database_url, params.database_password_secret)
        scores, model = score_customers(
            valid["customers"],
            valid["orders"],
            as_of,
            params.value_model,
            params.triggers,
            previous,
        )
        rec["rows"] = len(scores)
    with _timed(stages, "link_conversations") as rec:
        # Vectors stored by earlier nights: only text not seen before is encoded tonight.
        encoder = load_encoder(params.text.encoder_path, params.text.tokenizer_path)
        encoder_id = encoder.model_id
        text_model_version = model_version(params.text.model_dir)
        stored_vectors = read_text_embeddings(
            params.database_url, params.database_password_secret, encoder_id
        )
        load_stored_vectors(encoder_id, stored_vectors)
        overrides = read_identity_overrides(params.database_url, params.database_password_secret)
        kept_links = read_identity_links(params.database_url, params.database_password_secret)
        corrections = read_text_corrections(params.database_url, params.database_password_secret)
        conversations, stakeholders, identity_links = link_conversations(
            valid["customers"],
            valid["social_posts"],
            valid["tickets"],
            valid["ticket_comments"],
            valid["ideas"],
            overrides,
            scores,
            kept_links,
            params.identity,
            corrections,
            params.text,
        )
        rec["rows"] = len(conversations)
    with _timed(stages, "build_queues") as rec:
        idea_overrides = read_idea_overrides(params.database_url, params.database_password_secret)
        retention, ideation, supporters = build_queues(
            scores,
            conversations,
            stakeholders,
            valid["tickets"],
            as_of,
            params.triggers,
            params.ideation,
            params.queue_sizes,
            idea_overrides,
            params.text,
            params.policy(),
        )
        rec["rows"] = len(retention) + len(ideation)

    # Watermarks advance over what passed validation only: a quarantined future date must not
    # freeze an incremental source.
    for extraction in extractions:
        if extraction.incremental and "watermark" in extraction.state:
            rejected = set(outcomes[extraction.dataset].validation.rejected["row_key"])
            keys = CONTRACTS[extraction.dataset].row_keys(extraction.frame)
            extraction.state["watermark"] = settled_watermark(extraction, keys.isin(rejected))

    fresh_vectors = new_vectors(encoder_id, conversations["text"].tolist(), stored_vectors)
    published: dict | None = None
    privacy_upkeep: dict | None = None
    if not params.dry_run:
        # A cache, written before publishing: a rerun after a failed publish need not encode again.
        store_text_embeddings(
            params.database_url, params.database_password_secret, encoder_id, fresh_vectors
        )
        with _timed(stages, "publish") as rec:
            published = publish_queues(
                params.database_url,
                params.database_password_secret,
                run_id,
                flow_run.get_id(),
                as_of,
                retention,
                ideation,
                supporters,
                quarantined,
                extractions,
                released_ids,
                refailed,
                scores,
                model | {"text_model_version": text_model_version, "text_encoder": encoder_id},
                identity_links,
                params.cases.reopen_after_days,
            )
            rec["rows"] = published["retention"] + published["ideation"]
        privacy_upkeep = record_privacy_upkeep(
            params.database_url,
            params.database_password_secret,
            learned_suppressions,
            params.quarantine_retention_days,
        )

    summary = {
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "published": not params.dry_run,
        "datasets": datasets,
        "stages": stages,
        "model": model,
        "sources": {
            e.source: {
                "dataset": e.dataset,
                "rows": len(e.frame),
                "incremental": e.incremental,
                "unknown_fields": sum(e.unknown_fields.values()),
                "warnings": len(e.warnings),
                "quiet_runs": e.quiet_runs,
            }
            for e in extractions
        },
        "interaction_degrees": conversations.drop_duplicates("thread_id")["interaction_degree"]
        .value_counts()
        .to_dict(),
        "identity": conversations[conversations["author_key"].notna() & ~conversations["is_brand"]]
        .drop_duplicates("author_key")["link_method"]
        .fillna("stakeholder")
        .value_counts()
        .to_dict(),
        "languages": conversations["language"].value_counts().to_dict(),
        "erased_rows_dropped": erased_dropped,
        "privacy": privacy_upkeep,
        "text_model": {"version": text_model_version, "encoder": encoder_id},
        "text_vectors": {"stored_before": len(stored_vectors), "encoded": len(fresh_vectors)},
        "queues": {
            "retention": len(retention),
            "ideation": len(ideation),
            "idea_supporters": len(supporters),
            "stakeholders": len(stakeholders),
        },
        "queues_changed": None
        if published is None
        else published["fingerprint_before"] != published["fingerprint_after"],
    }
    summary["last_backtest"] = read_last_backtest()
    report_run(summary, retention, ideation)
    logger.info(
        "Run %s as of %s: %d retention cases, %d ideas",
        run_id,
        as_of,
        len(retention),
        len(ideation),
    )
    return summary
