"""Health: the last nightly publish for people, ``/healthz`` for machines."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from patronage.tasks.io.failed_nightlies import latest_nightly
from patronage.web.auth import Role
from patronage.web.render import render
from patronage.web.sessions import Session
from patronage.work.listing import last_publish

router = APIRouter()


@router.get("/health")
def health(request: Request, session: Session = Depends(Role("agent", "product"))) -> Response:
    config = request.app.state.config
    published = last_publish(request.app.state.engine)
    ui = (config.prefect_ui_url or "").rstrip("/")
    run_url = None
    if published and published.get("flow_run_id") and ui:
        run_url = f"{ui}/runs/flow-run/{published['flow_run_id']}"
    latest, api_error = None, None
    if config.prefect_api_url:
        try:
            latest = latest_nightly(config.prefect_api_url)
        except Exception as exc:  # the page still shows the last publish without the API
            api_error = f"the Prefect API did not answer ({type(exc).__name__})"
    if latest and ui:
        latest["link"] = f"{ui}/runs/flow-run/{latest['id']}"
    return render(request, "health.html", published=published, run_url=run_url,
                  latest=latest, api_error=api_error)  # fmt: skip


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
