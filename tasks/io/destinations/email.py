"""E-mail over SMTP, with the credentials of a prefect-email ``EmailServerCredentials`` block."""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
from email.message import EmailMessage

from prefect.blocks.core import Block
from prefect_email import EmailServerCredentials
from pydantic import Field

from patronage.tasks.io.destinations.base import Envelope, Session
from patronage.tasks.transforms.delivery.retry_policy import Outcome


class EmailDestination(Block):
    """Sending e-mail: an SMTP server (a prefect-email credentials block) and a sender."""

    _block_type_name = "Patronage Email Destination"
    _block_type_slug = "patronage-email-destination"
    _description = "Where Patronage sends e-mail: SMTP credentials and the sender address."

    smtp: EmailServerCredentials = Field(..., description="The SMTP server and its login.")
    from_address: str = Field(..., description="Sender, e.g. Acme <ideas@acme.example>.")
    rate_per_second: float = Field(
        20.0, gt=0, description="Messages per second at most (the provider's limit)."
    )
    team_addresses: dict[str, str] = Field(
        default_factory=dict,
        description='Team (or account owner) → address for digests and SLA alerts, e.g. {"team:growth": "growth@acme.example"}.',
    )

    def open(self) -> Session:
        return _EmailSession(self)


class _EmailSession(Session):
    def __init__(self, block: EmailDestination) -> None:
        self.block = block
        self.server: smtplib.SMTP | None = None

    def _connected(self) -> smtplib.SMTP:
        if self.server is None:
            self.server = self.block.smtp.get_server()
        return self.server

    def send(self, envelope: Envelope) -> Outcome:
        address = envelope.email
        if envelope.recipient_kind == "team":
            address = self.block.team_addresses.get(envelope.recipient_id)
            if not address:
                return Outcome(
                    "dead",
                    f"email: team_addresses has no address for {envelope.recipient_id!r} "
                    "(add it to the block, then `patronage outbox retry`)",
                )
        if not address:
            return Outcome("dead", "email: no address on file")
        message = EmailMessage()
        message["From"] = self.block.from_address
        message["To"] = address
        message["Subject"] = envelope.subject
        # The same Message-ID on a repeat lets a mail client fold a duplicate away.
        digest = hashlib.sha256(envelope.idempotency_key.encode()).hexdigest()[:32]
        message["Message-ID"] = f"<{digest}@patronage.invalid>"
        message.set_content(envelope.text)
        try:
            refused = self._connected().send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            return _smtp_outcome(min(codes) if codes else 550)
        except smtplib.SMTPResponseException as exc:
            self._drop()
            return _smtp_outcome(exc.smtp_code)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return Outcome("retry", f"email: {type(exc).__name__}")
        if refused:
            return _smtp_outcome(min(code for code, _ in refused.values()))
        return Outcome("sent")

    def _drop(self) -> None:
        if self.server is not None:
            try:
                self.server.close()
            finally:
                self.server = None

    def close(self) -> None:
        if self.server is not None:
            with contextlib.suppress(smtplib.SMTPException):
                self.server.quit()
            self._drop()


def _smtp_outcome(code: int) -> Outcome:
    # 4xx: the server says "not now"; 5xx: it never will (no such mailbox, refused).
    if 400 <= code < 500:
        return Outcome("retry", f"email: SMTP {code}")
    return Outcome("dead", f"email: SMTP {code}")
