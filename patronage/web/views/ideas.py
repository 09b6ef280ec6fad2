"""Ideas by priority with who backs them; merge (pick ideas), split (pick mentions), and status
changes that queue the closed-loop messages to the suggesters."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from patronage.web.auth import Forbidden, Role
from patronage.web.render import refusal, render
from patronage.web.sessions import Session, log_access
from patronage.work import (
    IDEA_STATUSES,
    IDEA_TRANSITIONS,
    ItemNotFound,
    WorkError,
    merge_ideas,
    set_idea_status,
    split_idea,
)
from patronage.work.listing import idea_file, ideas_page

router = APIRouter()
PRODUCT = Role("product")


def _to_idea(idea_key: str, notice: str) -> Response:
    return RedirectResponse(
        f"/ideas/{quote(idea_key, safe='')}?{urlencode({'notice': notice})}", status_code=303
    )


@router.get("/ideas")
def ideas(
    request: Request, status: str = "", page: int = 1, session: Session = Depends(PRODUCT)
) -> Response:
    listing = ideas_page(
        request.app.state.engine,
        page,
        request.app.state.config.page_size,
        status if status in IDEA_STATUSES else None,
    )
    return render(
        request,
        "ideas.html",
        listing=listing,
        status=status,
        statuses=IDEA_STATUSES,
        notice=request.query_params.get("notice"),
    )


@router.get("/ideas/{idea_key}")
def idea(request: Request, idea_key: str, session: Session = Depends(PRODUCT)) -> Response:
    engine = request.app.state.engine
    try:
        found = idea_file(engine, idea_key)
    except ItemNotFound as exc:
        return refusal(request, str(exc), "/ideas", 404)
    for supporter in found["customers"]:
        log_access(engine, session.user.username, "view", supporter["supporter_id"],
                   request.url.path)  # fmt: skip
    return render(
        request,
        "idea.html",
        idea=found,
        next_statuses=IDEA_TRANSITIONS.get(found["status"], ()),
        notice=request.query_params.get("notice"),
    )


@router.post("/ideas/merge")
def merge(
    request: Request,
    target: str = Form(""),
    sources: list[str] = Form(default_factory=list),
    session: Session = Depends(PRODUCT),
) -> Response:
    picked = [s for s in dict.fromkeys(sources) if s != target]
    if not target or not picked:
        return refusal(
            request, "Pick at least two ideas, and which one they merge into.", "/ideas", 422
        )
    moved = 0
    for source in picked:
        try:
            moved += merge_ideas(request.app.state.engine, source, target, session.user.username)[
                "moved"
            ]
        except WorkError as exc:
            return refusal(request, str(exc), "/ideas", 409)
    notice = f"Merged {len(picked)} idea(s) into {target}; {moved} supporter(s) moved."
    return _to_idea(target, notice)


@router.post("/ideas/{idea_key}/split")
def split(
    request: Request,
    idea_key: str,
    mentions: list[str] = Form(default_factory=list),
    session: Session = Depends(PRODUCT),
) -> Response:
    if not mentions:
        return refusal(request, "Pick the mentions to take out of this idea.",
                        f"/ideas/{idea_key}", 422)  # fmt: skip
    try:
        for conversation_id in dict.fromkeys(mentions):
            split_idea(request.app.state.engine, conversation_id, session.user.username)
    except WorkError as exc:
        return refusal(request, str(exc), f"/ideas/{idea_key}", 422)
    notice = f"{len(mentions)} mention(s) will stand as ideas of their own from the next run."
    return _to_idea(idea_key, notice)


@router.post("/ideas/{idea_key}/status")
def change_status(
    request: Request,
    idea_key: str,
    status: str = Form(""),
    session: Session = Depends(PRODUCT),
) -> Response:
    try:
        queued = set_idea_status(request.app.state.engine, idea_key, status, session.user.username)
    except ItemNotFound as exc:
        raise Forbidden(str(exc)) from None
    except WorkError as exc:
        return refusal(request, str(exc), f"/ideas/{idea_key}", 409)
    notice = f"{idea_key} is {status.replace('_', ' ')}; {queued} suggester message(s) queued."
    return _to_idea(idea_key, notice)
