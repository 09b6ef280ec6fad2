"""Shared test factories: where things are, and a nightly's parameters for a company folder."""

from __future__ import annotations

import socket
from pathlib import Path

from patronage.config import BUNDLED_SAMPLE_POLICY
from patronage.flows.parameters import NightlyParameters
from patronage.schemas.raw_layout import SAMPLE_POLICY_FILE

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
TEST_DATA = TESTS / "data"


def nightly_params(**fields) -> NightlyParameters:
    """``NightlyParameters`` with the company's own policy, as an operator would deploy it: the
    ``policy.yaml`` the simulator writes next to a company's exports, or the bundled sample's
    when no data folder or source is named. ``policy_file`` given explicitly wins."""
    if "policy_file" not in fields:
        if "data_location" in fields:
            own = Path(fields["data_location"]) / SAMPLE_POLICY_FILE
            fields["policy_file"] = str(own) if own.exists() else None
        elif not fields.get("sources") and not fields.get("sources_file"):
            fields["policy_file"] = str(BUNDLED_SAMPLE_POLICY)
    return NightlyParameters(**fields)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
