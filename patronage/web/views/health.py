"""Health: the last nightly publish for people, ``/healthz`` for machines."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from patronage.web.auth import Role
from patronage.web.render import render
from patronage.web.sessions import Session
from patronage.work.listing import last_publish

router = APIRouter()


@router.get("/health")
def health(request: Request, session: Session = Depends(Role("agent", "product"))) -> Response:
    config = request.app.state.config
    published = last_publish(request.app.state.engine)
    run_url = None
    if published and published.get("flow_run_id") and config.prefect_ui_url:
        run_url = f"{config.prefect_ui_url.rstrip('/')}/runs/flow-run/{published['flow_run_id']}"
    return render(request, "health.html", published=published, run_url=run_url)


@router.get("/healthz")
def healthz(request: Request) -> Response:
    """200 when the database answers; no data beyond the last publish time."""
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        published = last_publish(request.app.state.engine)
    except Exception as exc:  # any database failure is "unhealthy", said without its detail
        return JSONResponse({"status": "error", "database": type(exc).__name__}, status_code=503)
    return JSONResponse(
        {
            "status": "ok",
            "database": "ok",
            "last_publish": published["published_at"].isoformat() if published else None,
        }
    )
