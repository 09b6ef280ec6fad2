"""Which case a produced retention case continues: one open case per customer, and a new
episode (``RET-<customer>-<n>``) only once a person has resolved the last one and the
cool-down has passed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

EXISTING_COLUMNS = [
    "case_id", "customer_id", "status", "opened_at", "resolved_at", "due_date", "pipeline_state",
]  # fmt: skip


def assign_case_episodes(
    produced: pd.DataFrame, existing: pd.DataFrame, now: datetime, reopen_after_days: int
) -> pd.Series:
    """The case id each produced case is published under.

    Args:
        produced: This run's cases (``case_id``, ``customer_id``), one per customer.
        existing: Every published case (``EXISTING_COLUMNS``).
        now: Publish time.
        reopen_after_days: Days after a resolution before the same customer gets a new case;
            until then the resolved case is updated in place and stays resolved.

    Returns:
        Case ids aligned with ``produced``.
    """
    if existing.empty or produced.empty:
        return produced["case_id"].copy()
    ordered = existing.assign(opened=pd.to_datetime(existing["opened_at"]).fillna(pd.Timestamp.min))
    ordered = ordered.sort_values(["customer_id", "opened", "case_id"], kind="stable")
    latest = ordered.groupby("customer_id").last()
    episodes = ordered.groupby("customer_id").size()
    cooled = pd.Timestamp(now - timedelta(days=reopen_after_days))

    def case_for(customer_id: str, default: str) -> str:
        if customer_id not in latest.index:
            return default
        last = latest.loc[customer_id]
        resolved_at = pd.to_datetime(last["resolved_at"])
        if last["status"] != "resolved" or pd.isna(resolved_at) or resolved_at > cooled:
            return last["case_id"]
        return f"RET-{customer_id}-{episodes[customer_id] + 1}"

    return pd.Series(
        [case_for(c, d) for c, d in zip(produced["customer_id"], produced["case_id"], strict=True)],
        index=produced.index,
        name="case_id",
    )


def keep_due_dates(produced: pd.DataFrame, existing: pd.DataFrame) -> pd.Series:
    """Due dates that hold: a case still open keeps the date it was given (a promise does not
    slide by a day every night), unless tonight's evidence makes it due sooner.

    Args:
        produced: This run's cases with their final ``case_id`` and tonight's ``due_date``.
        existing: Every published case (``EXISTING_COLUMNS``).

    Returns:
        Due dates aligned with ``produced``.
    """
    tonight = pd.to_datetime(produced["due_date"])
    if existing.empty or produced.empty:
        return produced["due_date"].copy()
    still_open = existing[(existing["pipeline_state"] == "open") & existing["due_date"].notna()]
    promised = pd.to_datetime(produced["case_id"].map(still_open.set_index("case_id")["due_date"]))
    kept = tonight.where(promised.isna() | (tonight < promised), promised)
    return pd.Series(kept.dt.date.to_numpy(), index=produced.index, name="due_date")
