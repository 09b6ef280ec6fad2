"""A delivery run in a process of its own, for the kill test: ``python delivery_worker.py
DB_URL SLACK_URL ZENDESK_URL SMTP_PORT``. Prints ``ready`` once imported, then delivers."""

from __future__ import annotations

import sys

from prefect_email import EmailServerCredentials, SMTPType
from pydantic import SecretStr

from patronage.resources.database import make_engine
from patronage.tasks.io.destinations import EmailDestination, SlackDestination, ZendeskDestination
from patronage.tasks.stages.deliver_outbox import deliver_outbox


def main(db_url: str, slack_url: str, zendesk_url: str, smtp_port: str) -> None:
    blocks = {
        "slack": SlackDestination(webhook_url=SecretStr(slack_url), rate_per_second=1000),
        "zendesk": ZendeskDestination(
            base_url=zendesk_url,
            email="agent@acme.example",
            api_token=SecretStr("zd-token"),
            group_map={"team:key-accounts": 11, "owner-03": 12, "team:growth": 13},
            rate_per_second=1000,
        ),
        "email": EmailDestination(
            smtp=EmailServerCredentials(
                smtp_server="127.0.0.1", smtp_type=SMTPType.INSECURE, smtp_port=int(smtp_port)
            ),
            from_address="ideas@acme.example",
            rate_per_second=1000,
        ),
    }
    engine = make_engine(db_url)
    sessions = {name: block.open() for name, block in blocks.items()}
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    report = deliver_outbox(
        engine, sessions, {n: 1000 for n in blocks}, "zendesk", "https://p.example", 60, 50,
        parallel={"zendesk": 8},
    )  # fmt: skip
    for session in sessions.values():
        session.close()
    sys.stdout.write(f"sent {len(report.sent)}\n")


if __name__ == "__main__":
    main(*sys.argv[1:5])
