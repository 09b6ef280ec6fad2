"""When the value models are fitted again, and when the stored fit is used."""

from datetime import date

import pytest

from patronage.tasks.transforms.value.bgnbd import BgNbdParams
from patronage.tasks.transforms.value.gamma_gamma import GammaGammaParams
from patronage.tasks.transforms.value.value_refit import StoredFit, refit_reason

FITTED = date(2026, 11, 1)


def _stored(n: int = 1000, bgnbd_method: str = "mle", gg_method: str = "mle") -> StoredFit:
    return StoredFit(
        BgNbdParams(0.5, 10.0, 0.7, 6.0, -1234.5, n, True, bgnbd_method),
        GammaGammaParams(3.0, 2.0, 25.0, -99.0, n // 2, True, gg_method),
        FITTED,
    )


@pytest.mark.parametrize(
    ("stored", "as_of", "n_customers", "after_days", "growth", "expected"),
    [
        (None, date(2026, 11, 2), 1000, 7, 0.05, "no fit stored"),
        (_stored(), date(2026, 11, 2), 1000, 7, 0.05, ""),
        (_stored(), date(2026, 11, 1), 1000, 7, 0.05, ""),  # the same night again
        (_stored(), date(2026, 11, 7), 1050, 7, 0.05, ""),  # 6 days, exactly 5 % more
        (_stored(), date(2026, 11, 8), 1000, 7, 0.05, "the stored fit is 7 days old"),
        (_stored(), date(2026, 11, 3), 1051, 7, 0.05, "customers with orders changed by 5.1% since the fit"),
        (_stored(), date(2026, 11, 3), 900, 7, 0.05, "customers with orders changed by 10.0% since the fit"),
        (_stored(), date(2026, 11, 2), 1000, 0, 0.05, "refit every night (refit_after_days 0)"),
        (_stored(), date(2026, 10, 30), 1000, 7, 0.05, "the stored fit is from a later night (2026-11-01)"),
        (_stored(gg_method="heuristic"), date(2026, 11, 2), 1000, 7, 0.05, "the stored fit fell back to heuristics"),
        (_stored(bgnbd_method="heuristic"), date(2026, 11, 2), 1000, 7, 0.05, "the stored fit fell back to heuristics"),
    ],
)  # fmt: skip
def test_refit_reason(stored, as_of, n_customers, after_days, growth, expected):
    assert refit_reason(stored, as_of, n_customers, after_days, growth) == expected
