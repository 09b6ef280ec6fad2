"""Where Patronage delivers: Slack, e-mail, HubSpot and Zendesk, each a Prefect block that
holds its credentials and opens a session for one delivery run."""

from patronage.tasks.io.destinations.base import (
    DestinationConfigError,
    Envelope,
    RateLimiter,
    Session,
)
from patronage.tasks.io.destinations.email import EmailDestination
from patronage.tasks.io.destinations.hubspot import HubSpotDestination
from patronage.tasks.io.destinations.slack import SlackDestination
from patronage.tasks.io.destinations.zendesk import ZendeskDestination

DESTINATION_BLOCKS = {
    "email": EmailDestination,
    "slack": SlackDestination,
    "hubspot": HubSpotDestination,
    "zendesk": ZendeskDestination,
}

__all__ = [
    "DESTINATION_BLOCKS",
    "DestinationConfigError",
    "EmailDestination",
    "Envelope",
    "HubSpotDestination",
    "RateLimiter",
    "Session",
    "SlackDestination",
    "ZendeskDestination",
]
