"""My work (open retention cases, filtered and paged) and the case page, with the actions
people take in place: claim, release, snooze, note, resolve."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from patronage.config.policy import RETENTION_REASONS as REASONS
from patronage.web.auth import Forbidden, Role, safe_next
from patronage.web.render import refusal, render
from patronage.web.sessions import Session, log_access
from patronage.web.views.case_chart import case_chart
from patronage.work import (
    RESOLVE_OUTCOMES,
    AlreadyClaimed,
    InvalidTransition,
    ItemNotFound,
    WorkError,
    add_note,
    claim,
    claim_next,
    get_item,
    release,
    resolve_case,
    snooze,
)
from patronage.work.listing import CASE_LIST_COLUMNS, CaseFilter, case_file, case_page

router = APIRouter()
AGENT = Role("agent")


def sla_state(due: date | None, today: date) -> tuple[str, str]:
    """The SLA state of a due date: a CSS class and the words people read."""
    if due is None:
        return "sla-none", "no due date"
    days = (due - today).days
    if days < 0:
        return "sla-overdue", f"overdue by {-days} day{'s' if days != -1 else ''}"
    if days == 0:
        return "sla-today", "due today"
    return "sla-due", f"due in {days} day{'s' if days != 1 else ''}"


def _today() -> date:
    return datetime.now().date()


@router.get("/")
def home(session: Session = Depends(Role("agent", "product"))) -> Response:
    return RedirectResponse("/ideas" if session.user.role == "product" else "/work", 303)


@router.get("/work")
def my_work(
    request: Request,
    team: str = "",
    reason: str = "",
    tier: str = "",
    mine: bool = False,
    snoozed: bool = False,
    page: int = 1,
    session: Session = Depends(AGENT),
) -> Response:
    user = session.user
    teams = None if user.role == "admin" else user.teams
    if team:
        if teams is not None and team not in teams:
            raise Forbidden(f"{user.username} is not in team {team}")
        teams = (team,)
    flt = CaseFilter(
        teams=teams,
        holder=user.username,
        reason=reason if reason in REASONS else None,
        tier=tier or None,
        assignee=user.username if mine else None,
        include_snoozed=snoozed,
    )
    today = _today()
    listing = case_page(
        request.app.state.engine, flt, page, request.app.state.config.page_size, today
    )
    for row in listing.rows:
        row["sla_class"], row["sla_text"] = sla_state(row["due_date"], today)
    return render(
        request,
        "my_work.html",
        listing=listing,
        filters={"team": team, "reason": reason, "tier": tier, "mine": mine, "snoozed": snoozed},
        teams=user.teams if user.role != "admin" else listing.facets.get("owner", []),
        reasons=REASONS,
        outcomes=RESOLVE_OUTCOMES[:-1],  # closed_elsewhere is delivery's, not a person's
        today=today,
    )


def _case_in_scope(request: Request, session: Session, case_id: str) -> dict:
    try:
        case = get_item(request.app.state.engine, "retention", case_id)
    except ItemNotFound as exc:
        raise Forbidden(str(exc)) from None
    if not session.user.may_work_case(case["owner"], case["assignee"]):
        raise Forbidden(f"case {case_id} belongs to {case['owner']}, not to your teams")
    return case


@router.post("/work/claim-next")
def claim_next_case(request: Request, session: Session = Depends(AGENT)) -> Response:
    """The highest-priority case nobody holds, of the agent's teams (any team for admins)."""
    user = session.user
    owners = None if user.role == "admin" else user.teams
    case_id = claim_next(request.app.state.engine, "retention", user.username, owners=owners)
    if case_id is None:
        return render(request, "error.html", 409, title="Nothing to claim",
                      message="Every open case of your teams is held by someone.", back="/work")  # fmt: skip
    target = f"/cases/{quote(case_id, safe='')}"
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.get("/cases/{case_id}")
def case_page_view(request: Request, case_id: str, session: Session = Depends(AGENT)) -> Response:
    _case_in_scope(request, session, case_id)
    engine = request.app.state.engine
    case = case_file(engine, case_id)
    log_access(engine, session.user.username, "view", case["customer_id"], request.url.path)
    doc = case["evidence_doc"]
    today = _today()
    last_purchase = next_purchase = None
    if case["purchases"]:
        last_purchase = case["purchases"][-1]["ordered_at"].date()
        if doc.get("typical_interval_days"):
            # When their own rhythm says they would have bought again.
            next_purchase = last_purchase + timedelta(days=round(doc["typical_interval_days"]))
    sla_class, sla_text = sla_state(case["due_date"], today)
    opened = case["opened_as_of"]
    return render(
        request,
        "case.html",
        case=case,
        doc=doc,
        items=[i for i in doc.get("items", []) if isinstance(i, dict)],
        sla_class=sla_class,
        sla_text=sla_text,
        sla_days=(case["due_date"] - opened).days if opened else None,
        last_purchase=last_purchase,
        next_purchase=next_purchase,
        chart=case_chart(case["purchases"], case["history"]),
        playbook=[s for s in (case["playbook"] or "").splitlines() if s.strip()],
        outcomes=RESOLVE_OUTCOMES[:-1],
        today=today,
    )


def _after_action(
    request: Request, session: Session, case_id: str, next_url: str, message: str,
    status_code: int = 200, done: bool = False, row: dict | None = None,
) -> Response:  # fmt: skip
    """An htmx request gets the row back (or the resolved notice); a plain form, a redirect.
    ``row`` is the case as the action left it, when the action knows (saves a read)."""
    if not request.headers.get("HX-Request"):
        if status_code >= 400:
            return refusal(request, message, safe_next(next_url), status_code)
        return RedirectResponse(safe_next(next_url), status_code=303)
    if done:
        return render(request, "_case_done.html", status_code, case_id=case_id, message=message)
    if row is None:
        row = get_item(request.app.state.engine, "retention", case_id)
    row = {c: v for c, v in row.items() if c in CASE_LIST_COLUMNS}
    row["sla_class"], row["sla_text"] = sla_state(row["due_date"], _today())
    return render(
        request, "_case_row.html", status_code, row=row, message=message,
        outcomes=RESOLVE_OUTCOMES[:-1], today=_today(),
    )  # fmt: skip


def _act(request: Request, session: Session, case_id: str, next_url: str, action, ok: str,
         done: bool = False, changes: dict | None = None) -> Response:  # fmt: skip
    case = _case_in_scope(request, session, case_id)
    try:
        action()
    except (AlreadyClaimed, InvalidTransition) as exc:
        return _after_action(request, session, case_id, next_url, str(exc), 409)
    except ItemNotFound as exc:
        return _after_action(request, session, case_id, next_url, str(exc), 404)
    except WorkError as exc:
        return _after_action(request, session, case_id, next_url, str(exc), 422)
    after = {**case, **changes} if changes is not None else None
    return _after_action(request, session, case_id, next_url, ok, done=done, row=after)


@router.post("/cases/{case_id}/claim")
def claim_case(request: Request, case_id: str, next: str = Form("/work"),
               session: Session = Depends(AGENT)) -> Response:  # fmt: skip
    engine, who = request.app.state.engine, session.user.username
    return _act(request, session, case_id, next,
                lambda: claim(engine, "retention", case_id, who), f"You hold {case_id}.",
                changes={"assignee": who, "status": "in_progress"})  # fmt: skip


@router.post("/cases/{case_id}/release")
def release_case(request: Request, case_id: str, next: str = Form("/work"),
                 session: Session = Depends(AGENT)) -> Response:  # fmt: skip
    engine, who = request.app.state.engine, session.user.username
    return _act(request, session, case_id, next,
                lambda: release(engine, "retention", case_id, who),
                f"{case_id} is back in the queue.")  # fmt: skip


@router.post("/cases/{case_id}/snooze")
def snooze_case(request: Request, case_id: str, until: str = Form(""), next: str = Form("/work"),
                session: Session = Depends(AGENT)) -> Response:  # fmt: skip
    engine, who = request.app.state.engine, session.user.username
    try:
        day = date.fromisoformat(until)
    except ValueError:
        return _after_action(request, session, case_id, next,
                             f"snooze date {until!r} is not a date (YYYY-MM-DD)", 422)  # fmt: skip
    return _act(request, session, case_id, next,
                lambda: snooze(engine, "retention", case_id, day, who),
                f"{case_id} is snoozed until {day.isoformat()}.", done=True)  # fmt: skip


@router.post("/cases/{case_id}/note")
def note_case(request: Request, case_id: str, body: str = Form(""), next: str = Form("/work"),
              session: Session = Depends(AGENT)) -> Response:  # fmt: skip
    engine, who = request.app.state.engine, session.user.username
    return _act(request, session, case_id, next,
                lambda: add_note(engine, "retention", case_id, body[:10_000], who),
                f"Note added to {case_id}.", changes={})  # fmt: skip


@router.post("/cases/{case_id}/resolve")
def resolve(request: Request, case_id: str, outcome: str = Form(""), note: str = Form(""),
            next: str = Form("/work"), session: Session = Depends(AGENT)) -> Response:  # fmt: skip
    engine, who = request.app.state.engine, session.user.username
    return _act(request, session, case_id, next,
                lambda: resolve_case(engine, case_id, outcome, who, note.strip() or None),
                f"{case_id} resolved: {outcome.replace('_', ' ')}.", done=True)  # fmt: skip
