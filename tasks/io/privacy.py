"""Erasure and access requests: forget a person everywhere Patronage stores them, for good.

``erase`` deletes every row about the person (cases, scores, work log and outbox entries of
their cases, idea support, identity links, stored source rows, quarantined raw rows, text
vectors of their messages) and adds keyed HMACs of their identifiers to
``privacy_suppressions``: every later extract drops rows carrying one of them before anything
is stored (``tasks/stages/drop_erased_people.py``). The audit row in ``privacy_requests`` holds an
HMAC and counts, never the person. ``export_subject`` answers an access request.

The HMAC key comes from a Prefect Secret block (``privacy_key_secret``); without one, a random
key is kept in ``$PATRONAGE_HOME/privacy.key`` (mode 600) — for one machine only: a deployment
whose workers run elsewhere must use the Secret block. ``PERSONAL_DATA`` lists every table and
column and how erasure covers it; a test fails when a column is added without a decision.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, insert, or_, select

from patronage.config.locations import patronage_home
from patronage.resources.database import ensure_schema, load_secret, lock_for_writing
from patronage.schemas.tables import (
    access_log,
    case_purchases,
    contact_points,
    customer_scores,
    idea_overrides,
    idea_supporters,
    ideation_items,
    identity_candidates,
    identity_links,
    identity_overrides,
    outbox,
    privacy_requests,
    privacy_suppressions,
    quarantine,
    retention_cases,
    score_history,
    source_rows,
    text_corrections,
    text_embeddings,
    work_log,
)
from patronage.tasks.transforms.linking.identity import (
    email_key,
    normalize_handle,
    phone_key,
    stakeholder_id,
)
from patronage.tasks.transforms.privacy.suppression import identifier_hmac, row_identifiers

# How erasure covers each table's columns. "row": rows about the person are deleted;
# "none": holds no personal data (ids of runs, models, counts, people who work the queues).
PERSONAL_DATA: dict[str, str] = {
    "retention_cases": "row",  # the person's cases; their work log, outbox and corrections too
    "customer_scores": "row",
    "contact_points": "row",  # e-mail and language for the closed loop
    "idea_supporters": "row",  # their support; an idea only they backed is deleted
    "ideation_items": "row",  # titles are a supporter's words: ideas only they backed go
    "identity_links": "row",
    "identity_overrides": "row",
    "work_log": "row",  # entries (notes) on the person's cases and ideas
    "outbox": "row",  # messages to or about the person
    "text_corrections": "row",
    "text_embeddings": "row",  # vectors of their messages, found through stored source rows
    "quarantine": "row",  # raw rows carrying any of their identifiers
    "source_rows": "row",  # stored rows of incremental sources carrying their identifiers
    "idea_overrides": "row",  # merges and splits of ideas that are deleted
    "score_history": "row",
    "case_purchases": "row",
    "identity_candidates": "row",
    "access_log": "row",  # who viewed the person's data: it names them, so it goes with them
    "users": "none",  # staff who sign in to the web page
    "user_teams": "none",
    "web_sessions": "none",
    "sign_in_attempts": "none",
    "privacy_suppressions": "none",  # keyed HMACs only
    "privacy_requests": "none",  # HMAC and counts only
    "model_runs": "none",
    "publish_runs": "none",
    "source_state": "none",
    # Content hashes only, rewritten whole every night from rows that passed: an erased
    # person's rows are dropped before validation, so theirs are gone the next night.
    "validated_rows": "none",
    # A model (probabilities, and frequencies of names 5 or more profiles share: no one's)
    # and profile hashes, rewritten whole every night from tonight's customers and authors.
    "record_linkage_state": "none",
}
# Tables without personal data, column by column: a column added to one of them must be
# judged again (the test compares these with the schema).
NOT_PERSONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "privacy_suppressions": ("identifier_hmac", "request_id", "added_at"),
    "privacy_requests": ("id", "action", "subject_hmac", "actor", "at", "counts"),
    "model_runs": (
        "run_id", "as_of", "bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b",
        "bgnbd_log_likelihood", "bgnbd_method", "gamma_gamma_p", "gamma_gamma_q",
        "gamma_gamma_v", "gamma_gamma_log_likelihood", "gamma_gamma_method", "n_customers",
        "n_repeat_customers", "created_at", "text_model_version", "text_encoder", "fitted_as_of",
    ),
    "publish_runs": ("run_id", "flow_run_id", "as_of", "published_at", "counts"),
    "users": ("username", "password_hash", "role", "disabled", "created_at", "updated_at"),
    "user_teams": ("username", "team"),
    "web_sessions": ("token_hash", "username", "csrf_token", "created_at", "expires_at"),
    "sign_in_attempts": ("id", "username", "remote_addr", "at"),
    "source_state": (
        "source_name", "cursor", "watermark", "run_id", "updated_at", "quiet_runs", "last_rows_at",
    ),
    "validated_rows": (
        "dataset", "validation_version", "hash_version", "as_of", "row_count", "row_hashes",
        "run_id", "updated_at",
    ),
    "record_linkage_state": (
        "name", "spec", "model", "trained_as_of", "trained_profiles", "compared_under",
        "customers", "authors", "run_id", "updated_at",
    ),
}  # fmt: skip
TEXT_FIELDS = ("text", "subject", "body", "title")


class PrivacyError(ValueError):
    """An erasure or access request that cannot be carried out as asked."""


def load_privacy_key(secret_name: str | None = None) -> bytes:
    """The HMAC key: the Secret block's value, else this machine's key file (created once)."""
    if secret_name:
        return str(load_secret(secret_name)).encode("utf-8")
    path = patronage_home() / "privacy.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def normalise_identity(identity: str, phone_region: str = "US") -> str:
    """``email:…``, ``phone:…`` or ``<platform>:<handle>`` as the pipeline keys it."""
    kind, _, value = identity.partition(":")
    if not value:
        raise PrivacyError(
            f"identity {identity!r}: write it as email:ADDRESS, phone:NUMBER or PLATFORM:HANDLE"
        )
    key = (
        email_key(value)
        if kind == "email"
        else phone_key(value, phone_region)
        if kind == "phone"
        else normalize_handle(value, kind)
    )
    if not key:
        raise PrivacyError(f"identity {identity!r} is not a valid {kind}")
    return key


def _subject(
    conn, customer_id: str | None, identity: str | None, phone_region: str
) -> tuple[set[str], set[str]]:
    """The person's identifiers and customer ids, grown through identity links and stored rows."""
    if not customer_id and not identity:
        raise PrivacyError("name the person: --customer ID or --identity KEY")
    identifiers: set[str] = set()
    customers: set[str] = set()
    if customer_id:
        customers.add(customer_id)
    if identity:
        identifiers.add(normalise_identity(identity, phone_region))
    for table in (identity_links, identity_overrides):
        found = conn.execute(
            select(table.c.identity_key, table.c.customer_id).where(
                or_(table.c.customer_id.in_(customers), table.c.identity_key.in_(identifiers))
            )
        ).all()
        for key, customer in found:
            identifiers.add(key)
            if customer:
                customers.add(customer)
    identifiers |= {f"customer:{c}" for c in customers}
    # Stored CRM rows reveal e-mail, phone and handles of the customer.
    for dataset, payload in conn.execute(
        select(source_rows.c.dataset, source_rows.c.payload).where(
            source_rows.c.dataset == "customers"
        )
    ).all():
        ids = set(row_identifiers(dataset, pd.DataFrame([json.loads(payload)]), phone_region)[0])
        if ids & identifiers:
            identifiers |= ids
    return identifiers, customers


def _raw_rows(conn, table, json_column: str, phone_region: str) -> list:
    """Every stored raw row (source rows or quarantine): ``(key, record, identifiers)``, read
    once per request; a ticket comment's identifiers include its ``ticket:<id>``."""
    key_cols = [table.c.id] if "id" in table.c else [table.c.dataset, table.c.row_key]
    rows = []
    for row in conn.execute(select(*key_cols, table.c.dataset, table.c[json_column])).all():
        record = json.loads(row[-1]) if row[-1] else {}
        ids = set(row_identifiers(row[-2], pd.DataFrame([record]), phone_region)[0])
        if record.get("ticket_id"):
            ids.add(f"ticket:{record['ticket_id']}")
        rows.append((tuple(row[: len(key_cols)]), record, ids))
    return rows


def _about(rows: list, identifiers: set[str]) -> list:
    """``(key, record)`` of the raw rows that carry one of ``identifiers``."""
    return [(key, record) for key, record, ids in rows if ids & identifiers]


def erase(
    engine: Engine,
    *,
    customer_id: str | None = None,
    identity: str | None = None,
    actor: str,
    key: bytes,
    phone_region: str = "US",
) -> dict[str, int]:
    """Delete everything about one person and suppress them from every later extract.

    Args:
        engine: The Patronage database.
        customer_id: The CRM id of a customer who asked to be forgotten.
        identity: Or an identity key (``email:…``, ``phone:…``, ``twitter:handle``) of a social
            author or any speaker; a customer linked to it is erased with it.
        actor: Who carried out the request (kept in the audit).
        key: The HMAC key (``load_privacy_key``).
        phone_region: Region for phone numbers without a country code.

    Returns:
        Rows deleted per table, and ``suppressed`` identifiers.
    """
    from patronage.tasks.transforms.text.text_signals import text_hash

    ensure_schema(engine)
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            lock_for_writing(conn)
        identifiers, customers = _subject(conn, customer_id, identity, phone_region)
        # Stored tickets of the person: their comments are theirs too.
        raw_stored = _raw_rows(conn, source_rows, "payload", phone_region)
        identifiers |= {
            f"ticket:{r['ticket_id']}"
            for _, r in _about(raw_stored, identifiers)
            if r.get("ticket_id") and "requester_email" in r
        }
        stored = _about(raw_stored, identifiers)
        held = _about(_raw_rows(conn, quarantine, "raw_row", phone_region), identifiers)
        stakeholders = {stakeholder_id(i) for i in identifiers}
        people = customers | stakeholders
        texts = [
            r[f]
            for _, r in stored + held
            for f in TEXT_FIELDS
            if isinstance(r.get(f), str) and r[f]
        ]

        case_ids = set(
            conn.execute(
                select(retention_cases.c.case_id).where(
                    retention_cases.c.customer_id.in_(customers)
                )
            ).scalars()
        )
        backed = set(
            conn.execute(
                select(idea_supporters.c.idea_key).where(idea_supporters.c.supporter_id.in_(people))
            ).scalars()
        )
        counts["idea_supporters"] = conn.execute(
            delete(idea_supporters).where(idea_supporters.c.supporter_id.in_(people))
        ).rowcount
        still_backed = set(
            conn.execute(
                select(idea_supporters.c.idea_key).where(idea_supporters.c.idea_key.in_(backed))
            ).scalars()
        )
        only_theirs = backed - still_backed
        logged = set(
            conn.execute(
                select(work_log.c.id).where(
                    or_(
                        (work_log.c.queue == "retention") & work_log.c.item_key.in_(case_ids),
                        (work_log.c.queue == "ideation") & work_log.c.item_key.in_(only_theirs),
                    )
                )
            ).scalars()
        )
        counts["outbox"] = conn.execute(
            delete(outbox).where(
                or_(outbox.c.event_id.in_(logged), outbox.c.recipient_id.in_(people))
            )
        ).rowcount
        counts["work_log"] = conn.execute(
            delete(work_log).where(work_log.c.id.in_(logged))
        ).rowcount
        counts["text_corrections"] = conn.execute(
            delete(text_corrections).where(text_corrections.c.case_id.in_(case_ids))
        ).rowcount
        counts["retention_cases"] = conn.execute(
            delete(retention_cases).where(retention_cases.c.case_id.in_(case_ids))
        ).rowcount
        counts["ideation_items"] = conn.execute(
            delete(ideation_items).where(ideation_items.c.idea_key.in_(only_theirs))
        ).rowcount
        counts["idea_overrides"] = conn.execute(
            delete(idea_overrides).where(
                or_(
                    idea_overrides.c.subject.in_(only_theirs),
                    idea_overrides.c.target.in_(only_theirs),
                )
            )
        ).rowcount
        counts["customer_scores"] = conn.execute(
            delete(customer_scores).where(customer_scores.c.customer_id.in_(customers))
        ).rowcount
        for table in (contact_points, score_history, case_purchases, access_log):
            counts[table.name] = conn.execute(
                delete(table).where(table.c.customer_id.in_(customers))
            ).rowcount
        for table in (identity_links, identity_overrides, identity_candidates):
            counts[table.name] = conn.execute(
                delete(table).where(
                    or_(table.c.customer_id.in_(customers), table.c.identity_key.in_(identifiers))
                )
            ).rowcount
        counts["text_embeddings"] = conn.execute(
            delete(text_embeddings).where(
                text_embeddings.c.text_hash.in_({text_hash(t).hex() for t in texts})
            )
        ).rowcount
        counts["quarantine"] = sum(
            conn.execute(delete(quarantine).where(quarantine.c.id == k[0])).rowcount
            for k, _ in held
        )
        counts["source_rows"] = sum(
            conn.execute(
                delete(source_rows).where(
                    (source_rows.c.dataset == k[0]) & (source_rows.c.row_key == k[1])
                )
            ).rowcount
            for k, _ in stored
        )
        now = datetime.now(UTC).replace(tzinfo=None)
        subject = _subject_hmac(key, customer_id, identifiers)
        request_id = conn.execute(
            insert(privacy_requests).values(
                action="erase",
                subject_hmac=subject,
                actor=actor,
                at=now,
                counts=json.dumps(counts, sort_keys=True),
            )
        ).inserted_primary_key[0]
        macs = {identifier_hmac(key, i) for i in identifiers}
        _suppress(conn, macs, request_id, now)
        counts["suppressed"] = len(macs)
        conn.commit()
    return counts


def _subject_hmac(key: bytes, customer_id: str | None, identifiers: set[str]) -> str:
    """What the audit names the person by: the HMAC of their customer id, else of their first
    identifier (in sorted order)."""
    return identifier_hmac(
        key, f"customer:{customer_id}" if customer_id else sorted(identifiers)[0]
    )


def add_suppressions(engine: Engine, macs: set[str]) -> int:
    """Add HMACs learnt during a run (a suppressed customer's e-mail seen in the CRM export)."""
    if not macs:
        return 0
    with engine.begin() as conn:
        request = conn.execute(
            select(privacy_requests.c.id).order_by(privacy_requests.c.id.desc())
        ).scalar()
        return _suppress(conn, macs, request or 0, datetime.now(UTC).replace(tzinfo=None))


def _suppress(conn, macs: set[str], request_id: int, now: datetime) -> int:
    """Add the HMACs not on the suppression list yet; returns how many were added."""
    known = set(
        conn.execute(
            select(privacy_suppressions.c.identifier_hmac).where(
                privacy_suppressions.c.identifier_hmac.in_(macs)
            )
        ).scalars()
    )
    rows = [
        {"identifier_hmac": m, "request_id": request_id, "added_at": now}
        for m in sorted(macs - known)
    ]
    if rows:
        conn.execute(insert(privacy_suppressions), rows)
    return len(rows)


def export_subject(
    engine: Engine,
    *,
    customer_id: str | None = None,
    identity: str | None = None,
    actor: str,
    key: bytes,
    phone_region: str = "US",
) -> dict[str, Any]:
    """Everything Patronage holds about one person, by table (an access request's answer)."""
    ensure_schema(engine)
    with engine.connect() as conn:
        identifiers, customers = _subject(conn, customer_id, identity, phone_region)
        people = customers | {stakeholder_id(i) for i in identifiers}

        def rows(table, condition) -> list[dict]:
            return [
                {
                    k: (v.isoformat() if hasattr(v, "isoformat") else v)
                    for k, v in r._mapping.items()
                }
                for r in conn.execute(select(table).where(condition)).all()
            ]

        case_ids = [
            r["case_id"]
            for r in rows(retention_cases, retention_cases.c.customer_id.in_(customers))
        ]
        held = {
            "identifiers": sorted(identifiers),
            "retention_cases": rows(retention_cases, retention_cases.c.customer_id.in_(customers)),
            "customer_scores": rows(customer_scores, customer_scores.c.customer_id.in_(customers)),
            "contact_points": rows(contact_points, contact_points.c.customer_id.in_(customers)),
            "score_history": rows(score_history, score_history.c.customer_id.in_(customers)),
            "case_purchases": rows(case_purchases, case_purchases.c.customer_id.in_(customers)),
            "access_log": rows(access_log, access_log.c.customer_id.in_(customers)),
            "idea_supporters": rows(idea_supporters, idea_supporters.c.supporter_id.in_(people)),
            "identity_links": rows(
                identity_links,
                or_(
                    identity_links.c.customer_id.in_(customers),
                    identity_links.c.identity_key.in_(identifiers),
                ),
            ),
            "work_log": rows(
                work_log, (work_log.c.queue == "retention") & work_log.c.item_key.in_(case_ids)
            ),
            "outbox": rows(outbox, outbox.c.recipient_id.in_(people)),
            "source_rows": [
                r
                for _, r in _about(
                    _raw_rows(conn, source_rows, "payload", phone_region), identifiers
                )
            ],
            "quarantine": [
                r
                for _, r in _about(
                    _raw_rows(conn, quarantine, "raw_row", phone_region), identifiers
                )
            ],
        }
        subject = _subject_hmac(key, customer_id, identifiers)
        conn.execute(
            insert(privacy_requests).values(
                action="export",
                subject_hmac=subject,
                actor=actor,
                at=datetime.now(UTC).replace(tzinfo=None),
                counts=json.dumps({k: len(v) for k, v in held.items()}, sort_keys=True),
            )
        )
        conn.commit()
    return held


def expire_quarantine(engine: Engine, retention_days: int) -> int:
    """Delete quarantined raw rows first seen more than ``retention_days`` ago."""
    cutoff = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=retention_days)
    with engine.begin() as conn:
        return conn.execute(delete(quarantine).where(quarantine.c.first_seen < cutoff)).rowcount
