"""Server-rendered pages: one Jinja environment, escaping on for everything."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from patronage.config.locations import PACKAGE_DIR

TEMPLATES = Path(PACKAGE_DIR) / "templates" / "web"
# Customer text can be a megabyte; pages show the start of it (the rest stays in the data).
CLIP_CHARS = 500


def _clip(value: object, limit: int = CLIP_CHARS) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def _day(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)[:10]


def _money(value: object) -> str:
    try:
        return f"{float(value):,.2f}"
    except (TypeError, ValueError):
        return ""


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(clip=_clip, day=_day, money=_money)


def refusal(request: Request, message: str, back: str, status_code: int) -> HTMLResponse:
    """The page for an action that could not be done: the reason, and a way back."""
    return render(request, "error.html", status_code, title="Not done", message=message, back=back)


def render(
    request: Request, template: str, status_code: int = 200, **context: object
) -> HTMLResponse:
    """A page or fragment; ``viewer`` (the signed-in session) is added when there is one."""
    context.setdefault("viewer", getattr(request.state, "viewer", None))
    context["request"] = request
    html = environment.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code)
