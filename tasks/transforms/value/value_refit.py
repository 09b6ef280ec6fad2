"""Whether tonight fits the value models again or scores with the stored fit.

BG/NBD and Gamma-Gamma describe how a whole customer base buys, which moves slowly; fitted
again every night, their parameters still moved with each day's orders (a day with 1 % of a
year's orders moved the expected value of 929,415 of 1,000,000 customers by 1 % or more), so
every customer's scores, tiers and the queue built on them churned with the fit, not with what
the customer did. A stored fit is reused until it is ``refit_after_days`` old, or the customers
it describes changed in number by more than ``refit_on_growth``; every customer is still scored
every night with it (recency and age move, the latency trigger needs it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from patronage.tasks.transforms.value.bgnbd import BgNbdParams
from patronage.tasks.transforms.value.gamma_gamma import GammaGammaParams


@dataclass(frozen=True)
class StoredFit:
    """The value models' parameters a published night used, and the night they were fitted."""

    bgnbd: BgNbdParams
    gamma_gamma: GammaGammaParams
    fitted_as_of: date


def refit_reason(
    stored: StoredFit | None,
    as_of: date,
    n_customers: int,
    refit_after_days: int,
    refit_on_growth: float,
) -> str:
    """Why tonight fits again, or ``""`` to score with ``stored``.

    Args:
        stored: The fit the last published night used, if any.
        as_of: Tonight.
        n_customers: Customers with orders tonight.
        refit_after_days: Age at which a fit is due (0: every night).
        refit_on_growth: Share by which the customers may change in number before a fit.
    """
    if stored is None:
        return "no fit stored"
    if refit_after_days == 0:
        return "refit every night (refit_after_days 0)"
    if stored.bgnbd.method != "mle" or stored.gamma_gamma.method != "mle":
        return "the stored fit fell back to heuristics"
    age = (as_of - stored.fitted_as_of).days
    if age < 0:
        return f"the stored fit is from a later night ({stored.fitted_as_of.isoformat()})"
    if age >= refit_after_days:
        return f"the stored fit is {age} days old"
    grown = abs(n_customers - stored.bgnbd.n_customers) / max(stored.bgnbd.n_customers, 1)
    if grown > refit_on_growth:
        return f"customers with orders changed by {grown:.1%} since the fit"
    return ""
