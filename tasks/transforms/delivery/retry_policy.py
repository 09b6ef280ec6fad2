"""What a destination's answer means for a message, and how long to wait before trying again."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class Outcome:
    """What became of one delivery attempt.

    Attributes:
        verdict: ``sent`` (acknowledged), ``retry`` (try again later) or ``dead`` (never).
        reason: Why, in words fit for a log: the destination and its status, never content.
        retry_after: Seconds the destination asked to wait (429's ``Retry-After``), if any.
        remote_ref: The id the destination gave the task or ticket, if any.
    """

    verdict: str
    reason: str = ""
    retry_after: float | None = None
    remote_ref: str | None = None


def outcome_of_status(
    status: int, destination: str, retry_after: float | None = None, conflict_means_sent=False
) -> Outcome:
    """The outcome of an HTTP answer: 2xx sent; 429 and 5xx retry; 401/403/404/422 dead.

    Args:
        status: The HTTP status code.
        destination: The destination's name, for the reason.
        retry_after: Seconds from the answer's ``Retry-After`` header.
        conflict_means_sent: A 409 says the object already exists (an upsert that raced);
            otherwise 409 (a request with the same idempotency key still in progress) retries.
    """
    if 200 <= status < 300:
        return Outcome("sent")
    if status == 409:
        if conflict_means_sent:
            return Outcome("sent", f"{destination}: HTTP 409, already there")
        return Outcome("retry", f"{destination}: HTTP 409 conflict", retry_after)
    if status == 429:
        return Outcome("retry", f"{destination}: HTTP 429 rate limited", retry_after)
    if status >= 500 or status == 408:
        return Outcome("retry", f"{destination}: HTTP {status}", retry_after)
    if status in (401, 403):
        return Outcome(
            "dead", f"{destination}: HTTP {status}, check the {destination} block's credentials"
        )
    if 400 <= status < 500:  # will not change by trying again (400, 404, 410, 422 …)
        return Outcome("dead", f"{destination}: HTTP {status}")
    return Outcome("retry", f"{destination}: unexpected HTTP {status}")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_seconds(
    attempts: int,
    retry_after: float | None = None,
    base: float = 1.0,
    cap: float = 3600.0,
    rng: random.Random | None = None,
) -> float:
    """Exponential backoff with full jitter (AWS's "full jitter"), never shorter than what the
    destination asked for: ``max(retry_after, uniform(0, min(cap, base × 2^(attempts−1))))``.

    Args:
        attempts: Attempts made so far (1 after the first failure).
        retry_after: Seconds the destination asked to wait, if it said.
        base: The first ceiling, in seconds.
        cap: The largest ceiling, in seconds.
        rng: Random source (tests pass a seeded one).
    """
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    jittered = (rng or random).uniform(0, ceiling)
    return max(retry_after or 0.0, jittered)
