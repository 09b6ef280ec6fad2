"""Deliver stage: drain the outbox to its destinations, at least once, in order per item.

Each message is marked in flight, sent, and its outcome recorded; 429 and 5xx answers are
retried with exponential backoff and full jitter (never sooner than ``Retry-After``), within
this run while its time lasts and in later runs after it; 401/403/404/422 go to the dead
letters with the reason, and the rest of the batch goes on. A message waits while an earlier
message of the same item and recipient is unsent, so "planned" never overtakes "shipped".
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Engine

from patronage.tasks.io.destinations import Envelope, RateLimiter, Session
from patronage.tasks.io.outbox import (
    DueMessage,
    OutboxWriter,
    cases_written_to,
    due_messages,
    enqueue_cases,
    enqueue_operator_alerts,
    enqueue_team_messages,
    follow_remote_changes,
    recover_in_flight,
    route_pending,
)
from patronage.tasks.transforms.delivery.messages import item_link
from patronage.tasks.transforms.delivery.messages import render as render_template
from patronage.tasks.transforms.delivery.retry_policy import Outcome, backoff_seconds

SUBJECTS = {
    "en": "News about your idea",
    "de": "Neues zu Ihrer Idee",
    "es": "Novedades sobre tu idea",
    "fr": "Du nouveau sur votre idée",
}


@dataclass
class DeliveryReport:
    """What a delivery run did, in counts and outbox ids (no personal data)."""

    sent: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    dead: list[int] = field(default_factory=list)
    recovered_in_flight: list[int] = field(default_factory=list)
    routed: dict[str, int] = field(default_factory=dict)
    cases_queued: int = 0
    team_messages_queued: int = 0
    followed: dict[str, object] = field(default_factory=dict)
    attempts: int = 0
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return len(self.sent)

    def counts(self) -> dict[str, object]:
        return {
            "sent": len(self.sent),
            "deferred": len(self.deferred),
            "dead": len(self.dead),
            "recovered_in_flight": len(self.recovered_in_flight),
            "attempts": self.attempts,
            "cases_queued": self.cases_queued,
            "team_messages_queued": self.team_messages_queued,
            "followed_back": self.followed,
            "routed": self.routed,
            "seconds": round(self.seconds, 3),
        }


def envelope_for(
    message: DueMessage, links_base_url: str, templates: str | None = None
) -> Envelope:
    """The message's text from the company's templates, in the recipient's language."""
    p = message.payload
    render = partial(render_template, folder=templates)
    if message.kind == "operator_alert":
        fields = {"run_name": "", "state": "", "message": "", "link": "", "count": 0, **p}
        text = render("operator_alert", "en", **fields)
        subject = (
            f"Patronage nightly {p.get('run_name', '')}: {p.get('state', '')}"
            if p["what"] == "nightly"
            else f"Patronage: {p.get('count')} dead letter(s)"
        )
    elif message.kind == "team_digest":
        text = render(
            "team_digest",
            "en",
            team=p["team"],
            date=p["date"],
            new=p["new"],
            due_today=p["due_today"],
            overdue=p["overdue"],
            link=lambda case: item_link(links_base_url, "cases", case),
        )
        subject = (
            f"Retention cases for {p['team']} on {p['date']}: {len(p['overdue'])} overdue, "
            f"{len(p['due_today'])} due today, {len(p['new'])} new"
        )
    elif message.kind == "sla_breach":
        text = render(
            "sla_breach",
            "en",
            case_link=item_link(links_base_url, "cases", p["case_id"]),
            **{k: p[k] for k in ("case_id", "value_tier", "owner", "due_date", "status")},
        )
        subject = f"SLA breached: case {p['case_id']} was due {p['due_date']}"
    elif message.kind == "case_opened":
        text = render(
            "case_task",
            "en",
            case_link=item_link(links_base_url, "cases", p["case_id"]),
            **{k: p.get(k) for k in ("case_id", "customer_id", "value_tier", "goal")},
            due_date=p["due_date"],
            reasons=p.get("reasons", "").replace(",", ", "),
            priority_rank=p.get("priority_rank"),
        )
        subject = f"Retention case {p['case_id']}: {p.get('goal', '')}"[:150]
    else:
        status = "merged" if message.kind == "idea_merged" else p.get("to", "")
        idea_key = p.get("idea_key", message.item_key)
        if message.destination == "slack":
            text = render(
                "community_task",
                "en",
                idea_key=idea_key,
                status=status,
                recipient_id=message.recipient_id,
                thread_link=item_link(
                    links_base_url, "conversations", message.conversation_id or "unknown"
                ),
                idea_link=item_link(links_base_url, "ideas", idea_key),
            )
            subject = f"Tell a supporter: idea {idea_key} is {status}"
        else:
            language = (message.language or "en").lower()[:2]
            text = render("idea_news", language, title=message.title or idea_key, status=status)
            subject = SUBJECTS.get(language, SUBJECTS["en"])
    return Envelope(
        message_id=message.id,
        idempotency_key=message.idempotency_key,
        kind=message.kind,
        recipient_id=message.recipient_id,
        subject=subject,
        text=text,
        payload=p,
        email=message.email,
        recipient_kind=message.recipient_kind,
    )


def deliver_outbox(
    engine: Engine,
    sessions: dict[str, Session],
    rates: dict[str, float],
    case_destination: str | None,
    links_base_url: str,
    max_seconds: float,
    max_attempts: int,
    limit: int = 100_000,
    seed: int | None = None,
    parallel: dict[str, int] | None = None,
    team_destination: str | None = None,
    digest_hour_utc: int = 6,
    failed_runs: list[dict] | None = None,
    dead_letter_threshold: int = 20,
    templates: str | None = None,
) -> DeliveryReport:
    """Route, queue and send what is due; returns the run's report.

    Args:
        engine: The Patronage database.
        sessions: An open session per configured destination (``email``, ``slack``, …).
        rates: Messages per second allowed per destination.
        case_destination: ``hubspot`` or ``zendesk`` to write retention cases to, if any.
        links_base_url: Root of the links to items in messages.
        max_seconds: How long this run may keep retrying deferred messages.
        max_attempts: Attempts after which a message that keeps failing goes to the dead letters.
        limit: Messages read per run at most.
        seed: Seed of the backoff jitter (tests).
        team_destination: ``slack`` or ``email``: where each team's morning digest (new,
            due today, overdue) and the SLA-breach alerts go; none: no digests.
        digest_hour_utc: Digests are queued by the first run at or after this hour (UTC).
        failed_runs: Nightly runs that failed or breached a contract (``id``, ``run_name``,
            ``state``, ``message``, ``link``): each alerts the operators once, through
            ``team_destination`` (the team ``operators``).
        dead_letter_threshold: Dead letters at which the operators are alerted (once a day).
        templates: The company's wording: a folder of ``<name>.<language>.txt`` Jinja2
            templates; what it lacks comes from Patronage's.
        parallel: Requests in flight at once per destination (default 1). Only destinations
            that fold repeats by idempotency key should have more: a killed run may leave
            this many messages in flight.
    """
    parallel = parallel or {}
    started = time.monotonic()
    deadline = started + max_seconds
    jitter = random.Random(seed)
    report = DeliveryReport()
    report.recovered_in_flight = recover_in_flight(engine)
    report.routed = route_pending(engine, set(sessions))
    if case_destination and case_destination in sessions:
        report.cases_queued = enqueue_cases(engine, case_destination)
    if team_destination and team_destination in sessions:
        now = datetime.now(UTC)
        report.team_messages_queued = enqueue_team_messages(
            engine, team_destination, now.date(), digests=now.hour >= digest_hour_utc
        )
        report.team_messages_queued += enqueue_operator_alerts(
            engine, team_destination, failed_runs or [], dead_letter_threshold, now.date()
        )
    limiters = {name: RateLimiter(rates.get(name, 0)) for name in sessions}
    messages = due_messages(engine, limit)
    writer = OutboxWriter(engine)
    # ready time (monotonic) per deferred message id; a message of a stuck key waits
    ready_at: dict[int, float] = {}
    now_wall = time.time()
    for m in messages:
        if m.next_attempt_at is not None:
            wait = m.next_attempt_at.timestamp() - now_wall
            if wait > 0:
                ready_at[m.id] = started + wait
    remaining = [m for m in messages if m.destination in sessions]
    lock = threading.Lock()  # one database connection, shared by the destinations' threads
    pools = {
        name: ThreadPoolExecutor(max_workers=parallel.get(name, 1), thread_name_prefix=name)
        for name in sessions
    }
    later: list[DueMessage] = []

    def settle(m: DueMessage, outcome: Outcome) -> None:
        report.attempts += 1
        attempts = m.attempts + 1
        if outcome.verdict == "sent":
            writer.finish(m.id, "sent", remote_ref=outcome.remote_ref)
            report.sent.append(m.id)
        elif outcome.verdict == "dead" or attempts >= max_attempts:
            reason = outcome.reason
            if outcome.verdict != "dead":
                reason = f"{reason}; gave up after {attempts} attempts"
            writer.finish(m.id, "dead", reason)
            report.dead.append(m.id)
        else:
            wait = backoff_seconds(attempts, outcome.retry_after, rng=jitter)
            writer.finish(m.id, "retry", outcome.reason, retry_in=wait)
            m.attempts = attempts
            ready_at[m.id] = time.monotonic() + wait
            later.append(m)

    def drain(name: str, batch: list[DueMessage]) -> None:
        # Waves as wide as the destination may have in flight: marked in flight together (one
        # commit), sent together, settled together (one commit).
        width = parallel.get(name, 1)
        send = partial(
            _send,
            session=sessions[name],
            limiter=limiters[name],
            base=links_base_url,
            templates=templates,
        )
        for start_at in range(0, len(batch), width):
            wave = batch[start_at : start_at + width]
            with lock:
                writer.begin_sends([m.id for m in wave])
            outcomes = list(pools[name].map(send, wave))
            with lock:
                for m, outcome in zip(wave, outcomes, strict=True):
                    settle(m, outcome)
                # Acknowledged at once: what was sent must not wait for another thread's wave.
                writer.commit()

    try:
        while remaining:
            # One message per item and recipient at a time: the head of each key. A deferred
            # head holds its key back; the others go now, each destination in its own thread,
            # in parallel waves where the destination folds repeats (idempotency keys), one by
            # one where it cannot (Slack, SMTP).
            heads: dict[str, list[DueMessage]] = {}
            later = []
            seen: set[tuple[str, str, str]] = set()
            now = time.monotonic()
            for m in remaining:
                key = m.order_key
                if key in seen or ready_at.get(m.id, 0) > now:
                    later.append(m)
                else:
                    heads.setdefault(m.destination, []).append(m)
                seen.add(key)
            _run_threads([partial(drain, name, batch) for name, batch in heads.items()])
            remaining = sorted(later, key=lambda m: m.id)
            if not remaining or heads:
                continue
            firsts: dict[tuple[str, str, str], DueMessage] = {}
            for m in remaining:
                firsts.setdefault(m.order_key, m)
            soonest = min(ready_at.get(m.id, 0) for m in firsts.values())
            if soonest > deadline:
                break
            time.sleep(max(0.0, soonest - time.monotonic()))
    finally:
        for pool in pools.values():
            pool.shutdown(wait=True)
        writer.close()
    report.deferred = sorted(m.id for m in remaining)
    if case_destination and case_destination in sessions:
        report.followed = follow_back(engine, sessions[case_destination], case_destination)
    report.seconds = time.monotonic() - started
    return report


def follow_back(engine: Engine, session: Session, destination: str) -> dict[str, object]:
    """Bring back what people did to the cases in the CRM or helpdesk.

    Who wins when both sides changed: a resolution is final on whichever side came first (a
    case resolved in Patronage stays as resolved there; a task completed or ticket solved
    there resolves an open Patronage case with outcome ``closed_elsewhere``). A reassignment
    there makes its holder the case's assignee unless someone claimed the case in Patronage
    after the remote change (the later change wins).
    """
    cases = cases_written_to(engine, destination)
    if not cases:
        return {"resolved": 0, "reassigned": 0}
    try:
        states = session.remote_states([c.remote_ref for c in cases])
    except Exception as exc:  # the sends are done; following back waits for the next run
        return {"resolved": 0, "reassigned": 0, "error": f"{destination}: {type(exc).__name__}"}
    changes = []
    for case in cases:
        state = states.get(case.remote_ref)
        if state is None:
            continue
        detail = {"remote": case.remote_ref, "status": state.status}
        if state.done:
            changes.append((case, "resolve", detail))
            continue
        holder = state.assignee
        if not holder or holder == session.assigned_holder(case.payload):
            continue
        mark = f"{destination}:{holder}"
        later_here = case.claimed_at and state.updated_at and case.claimed_at > state.updated_at
        if case.assignee != mark and not later_here:
            changes.append((case, "assign", {**detail, "assignee": mark, "at": state.updated_at}))
    return follow_remote_changes(engine, destination, changes)


def _run_threads(jobs: list) -> None:
    """Run each job in a thread of its own; the first error is raised after all have ended."""
    errors: list[BaseException] = []

    def guarded(job) -> None:
        try:
            job()
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _send(
    message: DueMessage,
    session: Session,
    limiter: RateLimiter,
    base: str,
    templates: str | None = None,
) -> Outcome:
    envelope = envelope_for(message, base, templates)
    limiter.wait()
    try:
        return session.send(envelope)
    except Exception as exc:  # a destination's bug must not stop the batch
        return Outcome("retry", f"{message.destination}: {type(exc).__name__}")
