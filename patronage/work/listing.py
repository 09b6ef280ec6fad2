"""Reading the queues a page at a time, filtered the way people work them, and everything a
case or an idea page shows around the item."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine, func, or_, select

from patronage.resources.database import ensure_schema
from patronage.schemas.tables import (
    case_purchases,
    idea_supporters,
    ideation_items,
    identity_candidates,
    publish_runs,
    retention_cases,
    score_history,
    work_log,
)
from patronage.work.queue_items import QUEUES, _awake, _not_done, _now, _row

CASE_LIST_COLUMNS = [
    "case_id", "customer_id", "value_tier", "value_at_risk", "clv", "priority_rank",
    "reason_codes", "owner", "due_date", "status", "assignee", "snoozed_until",
]  # fmt: skip
IDEA_LIST_COLUMNS = [
    "idea_key", "title", "status", "votes", "momentum", "n_mentions", "n_supporters",
    "customer_supporters", "stakeholder_supporters", "priority_rank", "priority_score",
    "last_activity", "assignee",
]  # fmt: skip


@dataclass(frozen=True)
class CaseFilter:
    """Which open retention cases a list shows.

    Attributes:
        teams: Only cases these teams own (None: every team; an empty tuple: none).
        holder: Cases this person holds are shown even outside ``teams``.
        owner: Only this owning team or account owner.
        reason: Only cases with this reason code.
        tier: Only this value tier.
        assignee: Only cases held by this person.
        include_snoozed: Also cases snoozed past today.
    """

    teams: tuple[str, ...] | None = None
    holder: str | None = None
    owner: str | None = None
    reason: str | None = None
    tier: str | None = None
    assignee: str | None = None
    include_snoozed: bool = False


# Counting stops here: past it a list says "10,000+" (an exact count of a hundred thousand
# open cases costs a scan of them on every page view, and tells a person nothing more).
COUNT_CAP = 10_000


@dataclass
class Page:
    """One page of a list: its rows, the total (at most ``COUNT_CAP``), and where it is."""

    rows: list[dict]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[str]] = field(default_factory=dict)

    @property
    def capped(self) -> bool:
        return self.total >= COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def total_text(self) -> str:
        return f"{self.total:,}+" if self.capped else f"{self.total:,}"


def _page_query(table, columns: list[str], where: list, page: int, per_page: int):
    """One page of a queue, highest priority first (ties by key: the index's order)."""
    key = next(iter(table.primary_key.columns))
    return (
        select(*(table.c[c] for c in columns))
        .where(*where)
        .order_by(table.c.priority_score.desc(), key)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )


def _capped_count(conn, table, where: list) -> int:
    capped = (
        select(table.c[next(iter(table.primary_key.columns)).name]).where(*where).limit(COUNT_CAP)
    )
    return conn.execute(select(func.count()).select_from(capped.subquery())).scalar_one()


def _case_conditions(flt: CaseFilter, today: date) -> list:
    t = retention_cases
    q = QUEUES["retention"]
    conditions = [_not_done(q)]
    if not flt.include_snoozed:
        conditions.append(_awake(q, today))
    if flt.teams is not None:
        scope = t.c.owner.in_(flt.teams)
        conditions.append(or_(scope, t.c.assignee == flt.holder) if flt.holder else scope)
    if flt.owner:
        conditions.append(t.c.owner == flt.owner)
    if flt.tier:
        conditions.append(t.c.value_tier == flt.tier)
    if flt.assignee:
        conditions.append(t.c.assignee == flt.assignee)
    if flt.reason:
        # reason_codes is a comma-separated list of known codes: match one whole code.
        codes = "," + t.c.reason_codes + ","
        conditions.append(codes.contains(f",{flt.reason},"))
    return conditions


def case_page(
    engine: Engine, flt: CaseFilter, page: int = 1, per_page: int = 50, today: date | None = None
) -> Page:
    """Open retention cases by priority (highest first), one page of them, with the owners,
    tiers and reasons the filters can offer."""
    ensure_schema(engine)
    today = today or _now().date()
    t = retention_cases
    where = _case_conditions(flt, today)
    page = max(1, page)
    query = _page_query(t, CASE_LIST_COLUMNS, where, page, per_page)
    scope = _case_conditions(CaseFilter(teams=flt.teams, holder=flt.holder), today)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
        total = _capped_count(conn, t, where)
        facets = _facets(conn, scope, flt.teams)
    return Page(rows, total, page, per_page, facets)


_FACETS: dict[tuple, tuple[float, dict[str, list[str]]]] = {}
FACETS_SECONDS = 300


def _facets(conn, scope: list, teams: tuple[str, ...] | None) -> dict[str, list[str]]:
    """Owners and tiers a filter can offer; they change with the nightly, so a few minutes old
    is fresh enough (and spares a scan per page view)."""
    import time

    key = (str(conn.engine.url), teams)
    now = time.monotonic()
    cached = _FACETS.get(key)
    if cached and now - cached[0] < FACETS_SECONDS:
        return cached[1]
    t = retention_cases
    found = {
        name: sorted(
            v for v in conn.execute(select(t.c[name]).where(*scope).distinct()).scalars() if v
        )
        for name in ("owner", "value_tier")
    }
    _FACETS[key] = (now, found)
    return found


def ideas_page(
    engine: Engine, page: int = 1, per_page: int = 50, status: str | None = None
) -> Page:
    """Open ideas by priority (merged-away and closed ones left out), one page of them."""
    ensure_schema(engine)
    t = ideation_items
    where = [t.c.pipeline_state == "open"]
    if status:
        where.append(t.c.status == status)
    page = max(1, page)
    query = _page_query(t, IDEA_LIST_COLUMNS, where, page, per_page)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
        total = _capped_count(conn, t, where)
        keys = [r["idea_key"] for r in rows]
        top = _supporters(conn, keys, per_kind=3)
    for row in rows:
        row["top_supporters"] = top.get(row["idea_key"], [])
    return Page(rows, total, page, per_page)


def _supporters(conn, keys: list[str], per_kind: int | None = None) -> dict[str, list[dict]]:
    s = idea_supporters
    found: dict[str, list[dict]] = {}
    if not keys:
        return found
    query = (
        select(s.c.idea_key, s.c.supporter_id, s.c.supporter_kind, s.c.weight,
               s.c.conversation_id, s.c.excerpt)
        .where(s.c.idea_key.in_(keys))
        .order_by(s.c.idea_key, s.c.supporter_kind, s.c.weight.desc(), s.c.supporter_id)
    )  # fmt: skip
    counts: dict[tuple[str, str], int] = {}
    for r in conn.execute(query).mappings():
        seen = counts.get((r["idea_key"], r["supporter_kind"]), 0)
        if per_kind is None or seen < per_kind:
            found.setdefault(r["idea_key"], []).append(dict(r))
        counts[(r["idea_key"], r["supporter_kind"])] = seen + 1
    return found


def idea_file(engine: Engine, idea_key: str) -> dict:
    """An idea with every supporter (customers by value, stakeholders by influence, each
    with their mention) and its work log."""
    ensure_schema(engine)
    q = QUEUES["ideation"]
    with engine.connect() as conn:
        idea = dict(_row(conn, q, idea_key))
        supporters = _supporters(conn, [idea_key]).get(idea_key, [])
        log = _log_of(conn, "ideation", idea_key)
    idea["customers"] = [s for s in supporters if s["supporter_kind"] == "customer"]
    idea["stakeholders"] = [s for s in supporters if s["supporter_kind"] == "stakeholder"]
    idea["log"] = log
    return idea


def _log_of(conn, queue: str, key: str) -> list[dict]:
    query = (
        select(work_log.c.at, work_log.c.actor, work_log.c.action, work_log.c.detail)
        .where(work_log.c.queue == queue, work_log.c.item_key == key)
        .order_by(work_log.c.id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def case_file(engine: Engine, case_id: str) -> dict:
    """A case with its evidence read, the customer's latest purchases, score history and the
    work log."""
    ensure_schema(engine)
    q = QUEUES["retention"]
    with engine.connect() as conn:
        case = dict(_row(conn, q, case_id))
        customer = case["customer_id"]
        case["purchases"] = [
            dict(r)
            for r in conn.execute(
                select(case_purchases.c.ordered_at, case_purchases.c.amount)
                .where(case_purchases.c.customer_id == customer)
                .order_by(case_purchases.c.ordered_at)
            ).mappings()
        ]
        case["history"] = [
            dict(r)
            for r in conn.execute(
                select(
                    score_history.c.as_of,
                    score_history.c.p_alive,
                    score_history.c.expected_clv,
                    score_history.c.value_tier,
                )
                .where(score_history.c.customer_id == customer)
                .order_by(score_history.c.as_of)
            ).mappings()
        ]
        case["log"] = _log_of(conn, "retention", case_id)
        # The night the case opened: its publish stamped both with the same time.
        case["opened_as_of"] = (
            conn.execute(
                select(publish_runs.c.as_of).where(publish_runs.c.published_at == case["opened_at"])
            ).scalar()
            if case.get("opened_at")
            else None
        )
    try:
        case["evidence_doc"] = json.loads(case["evidence"] or "{}")
    except ValueError:
        case["evidence_doc"] = {}
    return case


def identity_candidate_list(engine: Engine, limit: int = 200) -> list[dict]:
    """Near-miss author links waiting for a person, most probable first."""
    ensure_schema(engine)
    c = identity_candidates
    with engine.connect() as conn:
        found = [
            dict(r)
            for r in conn.execute(
                select(
                    c.c.identity_key,
                    c.c.customer_id,
                    c.c.match_probability,
                    c.c.compared,
                    c.c.found_at,
                )
                .order_by(c.c.match_probability.desc(), c.c.identity_key)
                .limit(limit)
            ).mappings()
        ]
    for row in found:
        row["compared"] = json.loads(row["compared"]) if row["compared"] else {}
    return found


def last_publish(engine: Engine) -> dict | None:
    """The latest nightly publish: when, for which date, its counts and flow run."""
    ensure_schema(engine)
    with engine.connect() as conn:
        row = (
            conn.execute(select(publish_runs).order_by(publish_runs.c.published_at.desc()).limit(1))
            .mappings()
            .first()
        )
    if row is None:
        return None
    found = dict(row)
    found["counts"] = json.loads(found["counts"] or "{}")
    return found
