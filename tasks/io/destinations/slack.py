"""Slack: messages to a channel through an incoming webhook."""

from __future__ import annotations

import httpx
from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from patronage.tasks.io.destinations.base import (
    Envelope,
    Session,
    http_outcome,
    network_outcome,
)
from patronage.tasks.transforms.delivery.retry_policy import Outcome


class SlackDestination(Block):
    """A Slack channel's incoming webhook (community tasks, digests, operator alerts)."""

    _block_type_name = "Patronage Slack Destination"
    _block_type_slug = "patronage-slack-destination"
    _description = "Where Patronage posts to Slack: an incoming webhook URL."

    webhook_url: SecretStr = Field(
        ..., description="The channel's incoming webhook URL (kept encrypted by Prefect)."
    )
    rate_per_second: float = Field(
        1.0, gt=0, description="Messages per second at most (Slack allows about one)."
    )
    timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one request.")

    def open(self) -> Session:
        return _SlackSession(self)


class _SlackSession(Session):
    def __init__(self, block: SlackDestination) -> None:
        self.url = block.webhook_url.get_secret_value()
        self.client = httpx.Client(timeout=block.timeout_seconds)

    def send(self, envelope: Envelope) -> Outcome:
        # A webhook has no idempotency key: a crash between Slack's 200 and our record may
        # repeat this one message (counted by the delivery run as "in flight at a crash").
        try:
            response = self.client.post(self.url, json={"text": envelope.text})
        except httpx.HTTPError as exc:
            return network_outcome(exc, "slack")
        return http_outcome(response, "slack")

    def close(self) -> None:
        self.client.close()
