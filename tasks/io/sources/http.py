"""HTTP for REST sources: auth from Secret blocks, bounded retries that honour Retry-After."""

from __future__ import annotations

import json
import logging
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from patronage.resources.database import load_secret
from patronage.tasks.io.sources.base import SourceError


def _logger() -> logging.Logger | logging.LoggerAdapter:
    """The run logger inside a Prefect run (shows in the UI), the module logger outside."""
    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("patronage.sources")


MAX_RETRY_AFTER_SECONDS = 120.0


class HttpPolicy(BaseModel):
    """How hard to try. Retries cover 429, 5xx, timeouts and dropped connections only."""

    timeout_seconds: float = Field(30.0, gt=0, description="Per-request timeout.")
    max_attempts: int = Field(6, ge=1, le=20, description="Attempts per page, the first included.")
    backoff_initial_seconds: float = Field(
        1.0, ge=0, description="First backoff (exponential with full jitter)."
    )
    backoff_max_seconds: float = Field(60.0, ge=0, description="Largest single backoff.")


class HttpAuth(BaseModel):
    """Names of Prefect Secret blocks; their values are loaded inside the extract task only."""

    bearer_token_secret: str | None = Field(None, description="Secret block with a bearer token.")
    basic_auth_secret: str | None = Field(
        None, description='Secret block with "username:password" or {"username": …, "password": …}.'
    )


class RetryableHTTPError(Exception):
    """A response worth retrying (429 or 5xx); carries Retry-After when the server sent one."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def build_auth(auth: HttpAuth) -> tuple[dict[str, str], httpx.Auth | None]:
    """Headers and httpx auth for a source, from its Secret blocks."""
    if auth.bearer_token_secret:
        return {"Authorization": f"Bearer {load_secret(auth.bearer_token_secret)}"}, None
    if auth.basic_auth_secret:
        value = load_secret(auth.basic_auth_secret)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                user, _, password = value.partition(":")
                value = {"username": user, "password": password}
        return {}, httpx.BasicAuth(value["username"], value["password"])
    return {}, None


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return min(max(float(raw), 0.0), MAX_RETRY_AFTER_SECONDS)
    except ValueError:
        from datetime import datetime
        from email.utils import parsedate_to_datetime

        try:
            delta = (parsedate_to_datetime(raw) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
        return min(max(delta, 0.0), MAX_RETRY_AFTER_SECONDS)


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableHTTPError | httpx.TimeoutException | httpx.TransportError)


def get_json(
    client: httpx.Client,
    source: str,
    url: str,
    params: dict[str, Any] | None,
    policy: HttpPolicy,
    sleep=None,
) -> dict:
    """GET one page as JSON, retrying what is worth retrying.

    Raises:
        SourceError: a 4xx other than 429 (at once), exhausted retries, or a body that is not
            JSON. The message names the source and the endpoint path, never credentials.
    """
    endpoint = urlsplit(url).path or url
    jitter = wait_random_exponential(
        multiplier=policy.backoff_initial_seconds, max=policy.backoff_max_seconds
    )

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableHTTPError) and exc.retry_after is not None:
            return exc.retry_after
        return jitter(state)

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        _logger().warning(
            "%s: GET %s attempt %d failed (%s); retrying in %.1f s",
            source,
            endpoint,
            state.attempt_number,
            type(exc).__name__ if not isinstance(exc, RetryableHTTPError) else exc,
            state.next_action.sleep if state.next_action else 0,
        )

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait,
        retry=retry_if_exception(_is_retryable),
        before_sleep=log_retry,
        reraise=True,
        **({"sleep": sleep} if sleep else {}),
    )
    try:
        for attempt in retrying:
            with attempt:
                response = client.get(url, params=params, timeout=policy.timeout_seconds)
                if response.status_code == 429 or response.status_code >= 500:
                    raise RetryableHTTPError(response.status_code, _retry_after(response))
                if response.status_code >= 400:
                    raise SourceError(
                        f"{source}: GET {endpoint} returned {response.status_code} "
                        f"{response.reason_phrase}"
                    )
                try:
                    return response.json()
                except ValueError as exc:
                    raise SourceError(f"{source}: GET {endpoint} did not return JSON") from exc
    except RetryableHTTPError as exc:
        raise SourceError(
            f"{source}: GET {endpoint} still failing after {policy.max_attempts} attempts ({exc})"
        ) from None
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise SourceError(
            f"{source}: GET {endpoint} still failing after {policy.max_attempts} "
            f"attempts ({type(exc).__name__})"
        ) from None
    raise AssertionError("unreachable")  # pragma: no cover
