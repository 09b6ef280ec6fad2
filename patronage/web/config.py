"""How the web page runs: sign-in mode, trusted proxies, sessions, limits."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, Field, field_validator


class WebConfig(BaseModel):
    """Settings of ``patronage web`` (command-line options fill them)."""

    auth: Literal["password", "proxy"] = Field(
        "password",
        description="password: users sign in with the passwords `patronage users` set; proxy: "
        "an SSO proxy in front signs them in and names them in user_header.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (e.g. 10.0.0.5, 10.0.0.0/24) whose user_header is "
        "believed; a request from anywhere else with that header is refused.",
    )
    user_header: str = Field("X-Forwarded-User", description="Header naming the signed-in user.")
    session_hours: int = Field(12, ge=1, le=24 * 30, description="A session lasts this long.")
    failed_sign_ins_per_user: int = Field(
        5, ge=1, description="Failed sign-ins for one user within the window before a lockout."
    )
    failed_sign_ins_per_address: int = Field(
        20, ge=1, description="Failed sign-ins from one address within the window."
    )
    lockout_minutes: int = Field(15, ge=1, description="The window (and the lockout) in minutes.")
    page_size: int = Field(50, ge=5, le=500, description="Rows per page of the lists.")
    prefect_ui_url: str | None = Field(
        None, description="Prefect UI base URL, for links to flow runs (e.g. http://prefect:4200)."
    )
    prefect_api_url: str | None = Field(
        None,
        description="Prefect API the health page asks for the last nightly run's state "
        "(default: PREFECT_API_URL of the web process; none: only the last publish is shown).",
    )
    privacy_key_secret: str | None = Field(
        None, description="Prefect Secret block with the erasure HMAC key (as for the nightly)."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted proxy {entry!r} is not an IP address or network"
                ) from None
        return value

    def trusts(self, address: str | None) -> bool:
        """Whether a request from ``address`` may name its user in ``user_header``."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(n, strict=False) for n in self.trusted_proxies)
