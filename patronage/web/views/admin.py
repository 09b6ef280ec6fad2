"""Admin pages: quarantine (fix a value, the next run releases it), identity review, privacy
requests and users."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from patronage.tasks.io.privacy import PrivacyError, erase, export_subject, load_privacy_key
from patronage.web.auth import Role
from patronage.web.render import refusal, render
from patronage.web.sessions import Session, log_access
from patronage.web.users import ROLES, UserError, list_users, set_disabled, set_role, set_teams
from patronage.work.identity_review import decide_candidate
from patronage.work.listing import identity_candidate_list
from patronage.work.quarantine import FixFileError, fix_value, quarantine_entries

router = APIRouter(prefix="/admin")
ADMIN = Role()


def _back(path: str, notice: str) -> Response:
    return RedirectResponse(f"{path}?{urlencode({'notice': notice})}", status_code=303)


@router.get("/quarantine")
def quarantine(request: Request, status: str = "quarantined",
               session: Session = Depends(ADMIN)) -> Response:  # fmt: skip
    entries = quarantine_entries(
        request.app.state.engine,
        status if status in ("quarantined", "fixed", "released") else None,
    )
    return render(request, "quarantine.html", entries=entries, status=status,
                  notice=request.query_params.get("notice"))  # fmt: skip


@router.post("/quarantine/{entry_id}/fix")
def fix(request: Request, entry_id: int, column: str = Form(""), value: str = Form(""),
        session: Session = Depends(ADMIN)) -> Response:  # fmt: skip
    try:
        fix_value(request.app.state.engine, entry_id, column, value)
    except FixFileError as exc:
        return refusal(request, str(exc), "/admin/quarantine", 422)
    return _back(
        "/admin/quarantine",
        f"Entry {entry_id}: {column} corrected; the next run validates the row and releases it.",
    )


@router.get("/identity")
def identity(request: Request, session: Session = Depends(ADMIN)) -> Response:
    return render(request, "identity.html",
                  candidates=identity_candidate_list(request.app.state.engine),
                  notice=request.query_params.get("notice"))  # fmt: skip


@router.post("/identity/decide")
def decide(request: Request, identity_key: str = Form(""), customer_id: str = Form(""),
           decision: str = Form(""), session: Session = Depends(ADMIN)) -> Response:  # fmt: skip
    if decision not in ("accept", "reject"):
        return refusal(request, f"decision must be accept or reject, not {decision!r}",
                        "/admin/identity", 422)  # fmt: skip
    try:
        recorded = decide_candidate(request.app.state.engine, identity_key, customer_id,
                                    decision == "accept", session.user.username)  # fmt: skip
    except ValueError as exc:
        return refusal(request, str(exc), "/admin/identity", 422)
    return _back("/admin/identity", f"{recorded.replace('_', '-')} recorded for customer "
                 f"{customer_id}; the next run honours it.")  # fmt: skip


@router.get("/privacy")
def privacy(request: Request, session: Session = Depends(ADMIN)) -> Response:
    return render(request, "privacy.html", notice=request.query_params.get("notice"))


def _subject(customer: str, identity_key: str) -> dict[str, str | None]:
    customer, identity_key = customer.strip(), identity_key.strip()
    if bool(customer) == bool(identity_key):
        raise PrivacyError("name the person with exactly one of: customer id, identity key")
    return {"customer_id": customer or None, "identity": identity_key or None}


@router.post("/privacy/export")
def privacy_export(request: Request, customer: str = Form(""), identity: str = Form(""),
                   session: Session = Depends(ADMIN)) -> Response:  # fmt: skip
    engine, config = request.app.state.engine, request.app.state.config
    try:
        subject = _subject(customer, identity)
        held = export_subject(engine, **subject, actor=session.user.username,
                              key=load_privacy_key(config.privacy_key_secret))  # fmt: skip
    except PrivacyError as exc:
        return refusal(request, str(exc), "/admin/privacy", 422)
    if subject["customer_id"]:
        log_access(engine, session.user.username, "export", subject["customer_id"],
                   request.url.path)  # fmt: skip
    body = json.dumps(held, indent=2, ensure_ascii=False, default=str) + "\n"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="subject-access-export.json"'},
    )


@router.post("/privacy/erase")
def privacy_erase(request: Request, customer: str = Form(""), identity: str = Form(""),
                  confirm: str = Form(""), session: Session = Depends(ADMIN)) -> Response:  # fmt: skip
    if confirm != "erase":
        return refusal(request, "Type erase to confirm: erasure cannot be undone.",
                        "/admin/privacy", 422)  # fmt: skip
    config = request.app.state.config
    try:
        counts = erase(request.app.state.engine, **_subject(customer, identity),
                       actor=session.user.username,
                       key=load_privacy_key(config.privacy_key_secret))  # fmt: skip
    except PrivacyError as exc:
        return refusal(request, str(exc), "/admin/privacy", 422)
    deleted = sum(v for k, v in counts.items() if k != "suppressed")
    return _back("/admin/privacy", f"Erased: {deleted} row(s) deleted, "
                 f"{counts['suppressed']} identifier(s) suppressed in every later extract.")  # fmt: skip


@router.get("/users")
def users(request: Request, session: Session = Depends(ADMIN)) -> Response:
    return render(request, "users.html", users=list_users(request.app.state.engine), roles=ROLES,
                  notice=request.query_params.get("notice"))  # fmt: skip


@router.post("/users/{username}")
def change_user(request: Request, username: str, role: str = Form(""), teams: str = Form(""),
                disabled: str = Form(""), session: Session = Depends(ADMIN)) -> Response:  # fmt: skip
    engine = request.app.state.engine
    try:
        set_role(engine, username, role)
        set_teams(engine, username, [t for t in teams.replace(";", ",").split(",")])
        ended = set_disabled(engine, username, disabled == "on")
    except UserError as exc:
        return refusal(request, str(exc), "/admin/users", 422)
    return _back(
        "/admin/users", f"{username} saved" + (f"; {ended} session(s) ended." if ended else ".")
    )
