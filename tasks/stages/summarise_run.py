"""The run's summary: counts, timings and model figures, ids-free (it becomes an artifact)."""

from __future__ import annotations

from datetime import date

from patronage.tasks.stages.build_work_queues import Queues
from patronage.tasks.stages.extract_datasets import Extracted
from patronage.tasks.stages.publish_run import Published
from patronage.tasks.stages.read_conversations import Linked
from patronage.tasks.stages.validate_datasets import Validated
from patronage.tasks.stages.value_customers import Scored


def summarise_run(
    run_id: str,
    as_of: date,
    stages: dict[str, dict],
    extracted: Extracted,
    validated: Validated,
    scored: Scored,
    linked: Linked,
    queues: Queues,
    published: Published | None,
) -> dict:
    """Counts per dataset, source and stage; identity, language and interaction mixes; queue
    sizes; whether the published queues changed (``None`` on a dry run)."""
    conversations = linked.conversations
    speaking = conversations["author_key"].notna() & ~conversations["is_brand"]
    people = conversations.loc[speaking, ["author_key", "link_method"]]
    return {
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "published": published is not None,
        "datasets": validated.counts(extracted.dataset_rows()),
        "stages": stages,
        "model": scored.model,
        "sources": {
            e.source: {
                "dataset": e.dataset,
                "rows": extracted.rows_of(e),
                "incremental": e.incremental,
                "unknown_fields": sum(e.unknown_fields.values()),
                "warnings": len(e.warnings),
                "quiet_runs": e.quiet_runs,
            }
            for e in extracted.extractions
        },
        "interaction_degrees": conversations.loc[
            ~conversations["thread_id"].duplicated(), "interaction_degree"
        ]
        .value_counts()
        .to_dict(),
        "identity": people.loc[~people["author_key"].duplicated(), "link_method"]
        .fillna("stakeholder")
        .value_counts()
        .to_dict(),
        "languages": conversations["language"].value_counts().to_dict(),
        "erased_rows_dropped": extracted.erased_rows_dropped,
        "privacy": published.privacy if published else None,
        "text_model": {"version": linked.text_model_version, "encoder": linked.texts.encoder_id},
        "text_vectors": {
            "stored_before": len(linked.texts.stored_vectors),
            "encoded": len(linked.texts.fresh_vectors),
            "languages_identified": len(linked.texts.fresh_languages),
            "read": len(linked.texts.fresh_readings),
        },
        "record_linkage": linked.linking.counts(),
        "queues": {
            "retention": len(queues.retention),
            "ideation": len(queues.ideation),
            "idea_supporters": len(queues.supporters),
            "stakeholders": len(linked.stakeholders),
        },
        "queues_changed": published.queues_changed if published else None,
    }
