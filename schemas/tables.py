"""The Patronage database: queues people work from, their supporters, quarantine and audit.

Pipeline-owned columns are rewritten by every publish; people-owned columns (``status``,
``assignee``, ``claimed_at``, ``snoozed_until``, ``outcome``, ``resolved_at``) are set on insert
only and never overwritten; notes live in ``work_log``. This module is the head of the schema;
``schemas/migrations`` (Alembic) brings any earlier database to it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

retention_cases = Table(
    "retention_cases",
    metadata,
    # grain: one row per retention case; at most one open case per customer
    Column("case_id", String(64), primary_key=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("value_tier", String(32), nullable=False),
    Column("clv", Float, nullable=False),
    Column("value_at_risk", Float, nullable=False),
    Column("priority_score", Float, nullable=False),
    Column("priority_rank", Integer),
    Column("reason_codes", String(255), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("goal", Text, nullable=False),
    Column("playbook", Text, nullable=False),
    Column("owner", String(128), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("pipeline_state", String(16), nullable=False, server_default="open"),
    Column("closed_reason", String(255)),
    Column("opened_at", DateTime),  # first publish of the case (set on insert only)
    # people-owned: open -> in_progress (claimed) -> resolved (with an outcome)
    Column("status", String(32), nullable=False, server_default="open"),
    Column("assignee", String(128)),
    Column("claimed_at", DateTime),
    Column("snoozed_until", Date),
    Column("outcome", String(32)),
    Column("resolved_at", DateTime),
)

ideation_items = Table(
    "ideation_items",
    metadata,
    # grain: one row per distinct idea
    Column("idea_key", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("n_mentions", Integer, nullable=False),
    Column("n_supporters", Integer, nullable=False),
    Column("customer_supporters", Integer, nullable=False),
    Column("stakeholder_supporters", Integer, nullable=False),
    Column("votes", Integer, nullable=False),
    Column("priority_score", Float, nullable=False),
    Column("priority_rank", Integer),
    Column("first_seen", DateTime, nullable=False),
    Column("last_activity", DateTime, nullable=False),
    Column("pipeline_state", String(16), nullable=False, server_default="open"),
    Column("closed_reason", String(255)),
    Column("opened_at", DateTime),
    # people-owned: new -> under_review -> planned -> shipped | declined
    Column("status", String(32), nullable=False, server_default="new"),
    Column("assignee", String(128)),
    Column("claimed_at", DateTime),
    Column("snoozed_until", Date),
    Column("status_changed_at", DateTime),
    Column("merged_into", String(64)),  # set when a person merged this idea into another
    Column("momentum", Float),  # share of supporter weight from the last momentum_days
)

# The web page's first pages: highest priority first, stopping after a page of rows.
Index(
    "ix_retention_cases_priority",
    retention_cases.c.priority_score.desc(),
    retention_cases.c.case_id,
)
Index(
    "ix_ideation_items_priority", ideation_items.c.priority_score.desc(), ideation_items.c.idea_key
)

idea_supporters = Table(
    "idea_supporters",
    metadata,
    # grain: one row per (idea, supporter)
    Column("idea_key", String(64), primary_key=True),
    Column("supporter_id", String(64), primary_key=True),
    Column("supporter_kind", String(16), nullable=False),
    Column("weight", Float, nullable=False),
    Column("conversation_id", String(96), nullable=False),
    Column("excerpt", Text),  # the start of the supporter's mention, shown as a sample
)

idea_overrides = Table(
    "idea_overrides",
    metadata,
    # grain: one row per idea a person merged into another (subject = idea key, decision
    # "merge", target = idea key) or per conversation split out of its idea (subject =
    # conversation id, decision "split"); every run's clustering obeys them
    Column("subject", String(96), primary_key=True),
    Column("decision", String(16), nullable=False),
    Column("target", String(64)),
    Column("decided_by", String(128)),
    Column("decided_at", DateTime, nullable=False),
)

work_log = Table(
    "work_log",
    metadata,
    # grain: one row per thing a person did to a queue item (claim, release, snooze, note,
    # resolve, status, merge, split); append-only
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("queue", String(16), nullable=False),
    Column("item_key", String(64), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("detail", Text),
    Column("at", DateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    # grain: one row per message to deliver: (event, recipient) for idea news, (case,
    # destination) for a case written to a CRM or helpdesk. ``idempotency_key`` is what a
    # destination that supports one sees, and what makes "once per change" hold here too.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", Integer, ForeignKey("work_log.id")),
    Column("recipient_kind", String(16), nullable=False),  # customer | stakeholder | team
    Column("recipient_id", String(64), nullable=False),
    Column("idea_key", String(64)),
    Column("kind", String(32), nullable=False),  # idea_status_changed | idea_merged | case_opened
    Column("payload", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("sent_at", DateTime),  # acknowledged by the destination
    # the item whose messages keep their order (an idea key or a case id)
    Column("item_key", String(64)),
    # where it goes (a destination name: email, slack, hubspot, zendesk); empty until routed
    Column("destination", String(64)),
    Column("idempotency_key", String(200)),
    # pending → in_flight → sent | (back to pending, deferred) | dead | discarded | skipped
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime),
    Column("last_error", Text),  # the reason in words (status, destination), never content
    Column("remote_ref", String(128)),  # the task or ticket id the destination gave
    Column("claimed_at", DateTime),
    UniqueConstraint("event_id", "recipient_id", name="uq_outbox_event_recipient"),
    UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
)
Index("ix_outbox_status_next", outbox.c.status, outbox.c.next_attempt_at)

contact_points = Table(
    "contact_points",
    metadata,
    # grain: one row per CRM customer with a way to reach them; rewritten by every publish
    Column("customer_id", String(64), primary_key=True),
    Column("email", String(320)),
    Column("language", String(16)),
    Column("opted_out", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime, nullable=False),
    # The number as the CRM holds it and its identity key (``phone:+E164``, null when not a
    # valid number in ``phone_region``), so a night parses only numbers that changed (0009).
    Column("phone", String(64)),
    Column("phone_region", String(8)),
    Column("phone_key", String(80)),
    # A hash of the CRM fields the row was written from (``contact_hashes``): a night compares
    # a million customers by it and writes only those whose fields changed (0013).
    Column("content_hash", BigInteger),
)

quarantine = Table(
    "quarantine",
    metadata,
    # grain: one row per distinct rejected raw row per dataset
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(64), nullable=False),
    Column("source", String(255), nullable=False),
    Column("row_key", String(255), nullable=False),
    Column("row_fingerprint", String(64), nullable=False),
    Column("failed_expectations", Text, nullable=False),
    Column("raw_row", Text, nullable=False),
    Column("first_run_id", String(64), nullable=False),
    Column("first_seen", DateTime, nullable=False),
    Column("last_run_id", String(64), nullable=False),
    # quarantined → fixed (an operator supplied a corrected row) → released (it passed) or back
    Column("status", String(16), nullable=False, server_default="quarantined"),
    Column("fixed_row", Text),
    Column("fixed_at", DateTime),
    Column("released_run_id", String(64)),
    UniqueConstraint("dataset", "row_fingerprint", name="uq_quarantine_row"),
)

publish_runs = Table(
    "publish_runs",
    metadata,
    # grain: one row per publish
    Column("run_id", String(64), primary_key=True),
    Column("flow_run_id", String(64)),
    Column("as_of", Date, nullable=False),
    Column("published_at", DateTime, nullable=False),
    Column("counts", Text, nullable=False),
)

identity_overrides = Table(
    "identity_overrides",
    metadata,
    # grain: one row per (identity key, customer) a person decided on; the pipeline obeys it
    Column("identity_key", String(255), primary_key=True),
    Column("customer_id", String(64), primary_key=True),
    Column("decision", String(16), nullable=False),  # must_link | cannot_link
    Column("decided_by", String(128)),
    Column("decided_at", DateTime, nullable=False),
)

identity_links = Table(
    "identity_links",
    metadata,
    # grain: one row per author key the pipeline linked to a customer by probability; kept so
    # that later runs keep the link (stable identities) until a person says cannot-link
    Column("identity_key", String(255), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("method", String(32), nullable=False),
    Column("match_probability", Float, nullable=False),
    Column("first_run_id", String(64), nullable=False),
    Column("last_run_id", String(64), nullable=False),
    Column("linked_at", DateTime, nullable=False),
)

text_embeddings = Table(
    "text_embeddings",
    metadata,
    # grain: one row per (encoder, text): the text's sentence vector, so a night encodes only
    # text it has not seen. Keyed by a hash of the text; the text itself is not stored here.
    Column("model_id", String(64), primary_key=True),
    Column("text_hash", String(32), primary_key=True),
    Column("vector", LargeBinary, nullable=False),
    Column("created_at", DateTime, nullable=False),
    # ISO 639-1 (text_language); null for a vector stored before languages were (0009).
    Column("language", String(16)),
    # The text's reading by the text model ``reading_model`` names (its fingerprint), before
    # any person's correction: a night reads again only text whose reading is missing or from
    # another model (0012). Null before a night stored one.
    Column("reading_model", String(64)),
    Column("intent", String(32)),
    Column("intent_confidence", Float),
    Column("sentiment", Float),
    Column("sentiment_label", String(16)),
)

text_corrections = Table(
    "text_corrections",
    metadata,
    # grain: one row per (conversation, intent a person said it does not have), recorded when a
    # retention case is resolved as not_a_churn_threat / not_a_complaint; every later night
    # reads that conversation, and texts that say the same, without that intent
    Column("conversation_id", String(96), primary_key=True),
    Column("not_intent", String(32), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("decided_by", String(128), nullable=True),
    Column("decided_at", DateTime, nullable=False),
)

model_runs = Table(
    "model_runs",
    metadata,
    # grain: one row per published run: fitted parameters, fit quality, sample size
    Column("run_id", String(64), primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("bgnbd_r", Float),
    Column("bgnbd_alpha", Float),
    Column("bgnbd_a", Float),
    Column("bgnbd_b", Float),
    Column("bgnbd_log_likelihood", Float),
    Column("bgnbd_method", String(16), nullable=False),
    Column("gamma_gamma_p", Float),
    Column("gamma_gamma_q", Float),
    Column("gamma_gamma_v", Float),
    Column("gamma_gamma_log_likelihood", Float),
    Column("gamma_gamma_method", String(16), nullable=False),
    Column("n_customers", Integer, nullable=False),
    Column("n_repeat_customers", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    # which text models read the night's conversations (``text_signals.model_version``)
    Column("text_model_version", String(96)),
    Column("text_encoder", String(96)),
    # the night the parameters above were fitted (earlier than as_of when a stored fit was
    # reused, ``ValueModelConfig.refit_after_days``); null on rows from before 0011
    Column("fitted_as_of", Date),
)

customer_scores = Table(
    "customer_scores",
    metadata,
    # grain: one row per customer: the latest published scores, which the next run compares with
    Column("customer_id", String(64), primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("p_alive", Float, nullable=False),
    Column("expected_clv", Float, nullable=False),
    Column("clv_if_retained", Float, nullable=False),
    Column("value_at_risk", Float, nullable=False),
    Column("value_tier", String(32), nullable=False),
    Column("rfm_segment", String(32), nullable=False),
    Column("latency_since", Date),
    Column("alive_drop_since", Date),
)

validated_rows = Table(
    "validated_rows",
    metadata,
    # grain: one row per dataset: the 64-bit content hashes (row_hashes, sorted uint64) of the
    # rows that passed its contract on the last published night, so rows arriving unchanged
    # skip the row-level expectations. Rewritten whole each night; a cache, not published state.
    Column("dataset", String(64), primary_key=True),
    Column("validation_version", String(64), nullable=False),  # contract and logic
    Column("hash_version", String(64), nullable=False),  # what computed the hashes
    Column("as_of", Date, nullable=False),  # the night they passed: valid for it and later
    Column("row_count", Integer, nullable=False),
    Column("row_hashes", LargeBinary, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

record_linkage_state = Table(
    "record_linkage_state",
    metadata,
    # grain: one row per linking model (name "author_profiles"): the trained model (Splink's
    # JSON and the term frequencies of names shared by 5 or more profiles), and the 64-bit
    # hashes (sorted uint64) of the customer and author profiles compared under it, so a night
    # compares only new or changed ones. Rewritten in the publish transaction (0010).
    Column("name", String(64), primary_key=True),
    Column("spec", String(64), nullable=False),  # what the model was trained with
    Column("model", Text, nullable=False),
    Column("trained_as_of", Date, nullable=False),
    Column("trained_profiles", Integer, nullable=False),
    Column("compared_under", String(64), nullable=False),  # model, blocking, thresholds
    Column("customers", LargeBinary, nullable=False),
    Column("authors", LargeBinary, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

source_state = Table(
    "source_state",
    metadata,
    # grain: one row per source; advanced only in the transaction that publishes a run
    Column("source_name", String(128), primary_key=True),
    Column("cursor", Text),
    Column("watermark", String(64)),
    Column("run_id", String(64), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # published runs in a row in which the source brought no rows, and when it last brought some:
    # a source that used to deliver and has gone quiet is reported, then fails the run
    Column("quiet_runs", Integer, nullable=False, server_default="0"),
    Column("last_rows_at", DateTime),
)

source_rows = Table(
    "source_rows",
    metadata,
    # grain: one row per (dataset, key) read from an incremental source; upserted, never duplicated
    Column("dataset", String(64), primary_key=True),
    Column("row_key", String(255), primary_key=True),
    Column("source_name", String(128), nullable=False),
    Column("payload", Text, nullable=False),
    Column("run_id", String(64), nullable=False),
)

QUEUE_TABLES = (retention_cases, ideation_items, idea_supporters)

privacy_suppressions = Table(
    "privacy_suppressions",
    metadata,
    # grain: one row per identifier of an erased person, as a keyed HMAC (never the identifier):
    # every extract drops rows that carry one, so an erased person does not come back
    Column("identifier_hmac", String(64), primary_key=True),
    Column("request_id", Integer, nullable=False),
    Column("added_at", DateTime, nullable=False),
)

privacy_requests = Table(
    "privacy_requests",
    metadata,
    # grain: one row per erasure or access request; an audit without personal data
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("action", String(16), nullable=False),
    Column("subject_hmac", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("counts", Text, nullable=False),
)


score_history = Table(
    "score_history",
    metadata,
    # grain: one row per (customer, run date) on which the customer's scores changed; rows
    # older than the publish's score_history_days are deleted
    Column("customer_id", String(64), primary_key=True),
    Column("as_of", Date, primary_key=True),
    Column("run_id", String(64), nullable=False),
    Column("p_alive", Float, nullable=False),
    Column("expected_clv", Float, nullable=False),
    Column("value_at_risk", Float, nullable=False),
    Column("value_tier", String(32), nullable=False),
)

case_purchases = Table(
    "case_purchases",
    metadata,
    # grain: one row per order of a customer with a published retention case (their latest
    # orders, for the case page's chart); rewritten by every publish
    Column("customer_id", String(64), primary_key=True),
    Column("order_id", String(128), primary_key=True),
    Column("ordered_at", DateTime, nullable=False),
    Column("amount", Float, nullable=False),
)

identity_candidates = Table(
    "identity_candidates",
    metadata,
    # grain: one row per social author whose best customer match fell just below the linking
    # threshold; rewritten by every publish, decided in identity review (identity_overrides)
    Column("identity_key", String(255), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("match_probability", Float, nullable=False),
    Column("compared", Text),  # JSON: both sides' normalised names and places
    Column("run_id", String(64), nullable=False),
    Column("found_at", DateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    # grain: one row per person who signs in to the web page (staff, not customers)
    Column("username", String(128), primary_key=True),
    Column("password_hash", String(255)),  # argon2id; none for users signed in by a proxy
    Column("role", String(16), nullable=False),  # agent | product | admin
    Column("disabled", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

user_teams = Table(
    "user_teams",
    metadata,
    # grain: one row per (user, team); an agent works the retention cases their teams own
    Column("username", String(128), primary_key=True),
    Column("team", String(128), primary_key=True),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    # grain: one row per signed-in browser; the cookie holds the token, this its SHA-256
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(128), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    # grain: one row per failed sign-in (never the password), for rate limiting and audit
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False, index=True),
    Column("remote_addr", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
)

access_log = Table(
    "access_log",
    metadata,
    # grain: one row per time a user viewed or exported one customer's data
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(16), nullable=False),  # view | export
    Column("customer_id", String(64), nullable=False, index=True),
    Column("route", String(255), nullable=False),
)
