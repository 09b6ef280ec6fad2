"""The nightly Patronage flow: extract → validate → score → link → build queues → publish."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.states import Failed, State

from patronage.config import Policy, effective_policy, merge_overrides
from patronage.flows.parameters import NightlyParameters
from patronage.flows.stage_clock import StageClock
from patronage.tasks.io.backtest_report import read_last_backtest
from patronage.tasks.io.publish_queues import PublishBatch
from patronage.tasks.io.report_run import report_run
from patronage.tasks.io.run_parameters import read_deployment_parameters
from patronage.tasks.io.sources import resolve_sources
from patronage.tasks.stages.build_work_queues import build_work_queues
from patronage.tasks.stages.extract_datasets import extract_datasets
from patronage.tasks.stages.publish_run import publish_run
from patronage.tasks.stages.read_conversations import (
    CONVERSATION_DATASETS,
    read_conversations,
    start_reading_texts,
)
from patronage.tasks.stages.summarise_run import summarise_run
from patronage.tasks.stages.validate_datasets import (
    ContractBreachError,
    WhenValid,
    settle_watermarks,
    stop_on_breach,
    validate_datasets,
)
from patronage.tasks.stages.value_customers import value_customers
from patronage.tasks.transforms.queues.case_purchases import latest_purchases

__all__ = ["ContractBreachError", "nightly"]


@flow(name="patronage-nightly", log_prints=False)
def nightly(
    params: NightlyParameters = NightlyParameters(),  # noqa: B008 - pydantic default renders as the UI form
    policy: Policy = Policy(),  # noqa: B008
) -> dict | State:
    """Turn the night's exports into the retention and ideation queues.

    Fails before publishing when any dataset breaches its contract, so the queues people are
    working from stay as they were. The run ends Failed with the breach as its message (one
    line per breach, no traceback); calling the flow raises ``ContractBreachError``.
    """
    try:
        return _nightly(*effective_parameters(params, policy))
    except ContractBreachError as exc:
        return Failed(message=str(exc), data=exc)


def _nightly(params: NightlyParameters, policy: Policy) -> dict:
    as_of = params.as_of or datetime.now(UTC).date()
    run_id = str(flow_run.get_id() or uuid.uuid4())
    database = params.database()
    clock = StageClock()

    sources = resolve_sources(params.sources, params.sources_file, params.data_location)
    extracted = clock.run(
        "extract", extract_datasets, sources, database, params.full_refresh,
        params.privacy_key_secret, params.identity.phone_region,
    )  # fmt: skip
    thresholds = {name: params.reject_threshold(name) for name in extracted.raw}
    # Tonight's new text is encoded from the moment the conversations are valid, while the
    # orders are still validated, the customers scored and the speakers linked: the text
    # models need its vectors only when they read the conversations.
    texts = WhenValid(
        CONVERSATION_DATASETS,
        lambda conversations: start_reading_texts(
            conversations, database, params.identity, params.text, policy.brand_handles
        ),
    )
    validated = clock.run(
        "validate", validate_datasets, extracted, as_of, database, thresholds,
        params.max_quiet_runs, params.data_docs_dir, not params.full_refresh, [texts],
    )  # fmt: skip
    stop_on_breach(validated, database, run_id, params.dry_run)
    settle_watermarks(extracted, validated)
    extracted.release_snapshots()
    valid = validated.valid
    # Started during validation: this stage's time is only what was left to do.
    reading = clock.run("read_texts", texts.result, valid)
    scored = clock.run(
        "score_customers", value_customers, valid, as_of, database, params.value_model,
        policy.triggers, params.customers_per_partition,
    )  # fmt: skip
    linked = clock.run(
        "link_conversations", read_conversations, valid, scored, database, params.identity,
        params.text, policy.brand_handles, as_of, params.full_refresh, reading,
    )  # fmt: skip
    queues = clock.run(
        "build_queues", build_work_queues, valid["tickets"], scored, linked, as_of, database,
        policy, params.ideation, params.queue_sizes, params.text, params.customers_per_partition,
    )  # fmt: skip

    published = None
    if not params.dry_run:
        batch = PublishBatch(
            run_id=run_id, flow_run_id=flow_run.get_id(), as_of=as_of,
            retention=queues.retention, ideation=queues.ideation, supporters=queues.supporters,
            quarantined=validated.quarantined, extractions=extracted.extractions,
            released_ids=validated.released_ids, refailed=validated.refailed,
            scores=scored.scores, identity_links=linked.identity_links,
            model=scored.model | {"text_model_version": linked.text_model_version,
                                  "text_encoder": linked.texts.encoder_id},
            reopen_after_days=params.cases.reopen_after_days, contacts=valid["customers"],
            purchases=latest_purchases(valid["orders"], queues.retention["customer_id"]),
            identity_candidates=linked.identity_candidates,
            score_history_days=params.score_history_days,
            phone_region=params.identity.phone_region,
            profile_linking=linked.linking.memory, full_refresh=params.full_refresh,
        )  # fmt: skip
        published = clock.run(
            "publish", publish_run, database, batch, linked, extracted.learned_suppressions,
            params.quarantine_retention_days, validated,
        )  # fmt: skip

    summary = summarise_run(
        run_id, as_of, clock.stages, extracted, validated, scored, linked, queues, published
    )
    summary["last_backtest"] = read_last_backtest()
    report_run(summary, queues.retention, queues.ideation)
    get_run_logger().info(
        "Run %s as of %s: %d retention cases, %d ideas",
        run_id, as_of, len(queues.retention), len(queues.ideation),
    )  # fmt: skip
    return summary


def effective_parameters(
    params: NightlyParameters, policy: Policy
) -> tuple[NightlyParameters, Policy]:
    """The run's parameters with a deployment's settings kept under a partial override, and
    the company policy in force (``policy_file`` with the ``policy`` parameter laid over it).

    ``prefect deployment run --params '{"params": {"dry_run": true}}'`` replaces the whole
    ``params`` object; merged onto the deployment's stored value, every field the override
    does not name keeps the deployment's setting instead of falling back to the default. The
    same holds for ``policy``.
    """
    stored = read_deployment_parameters(["params", "policy"])
    if stored is not None:
        params = NightlyParameters.model_validate(merge_overrides(*stored["params"]))
        if any(stored["policy"]):
            # Validated from the merged dict, so only the fields someone set count as set.
            policy = Policy.model_validate(merge_overrides(*stored["policy"]))
    return params, effective_policy(policy, params.policy_file)
