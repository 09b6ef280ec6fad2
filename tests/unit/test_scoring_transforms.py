import pandas as pd
import pytest

from patronage.config import TriggerConfig, ValueModelConfig
from patronage.tasks.transforms.value.customer_value import assign_value_tiers
from patronage.tasks.transforms.value.retention_triggers import detect_retention_triggers
from patronage.tasks.transforms.value.rfm import score_rfm


def test_rfm_quintiles_break_ties_by_customer_id():
    summary = pd.DataFrame(
        {
            "customer_id": ["E", "D", "C", "B", "A"],
            "days_since_last": [5.0, 5.0, 50.0, 100.0, 200.0],
            "n_orders": [9, 3, 3, 1, 1],
            "total_revenue": [500.0, 90.0, 80.0, 10.0, 10.0],
        }
    )
    rfm = score_rfm(summary).set_index("customer_id")
    assert rfm["r_score"].to_dict() == {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
    assert rfm["f_score"].to_dict() == {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
    assert rfm["m_score"].to_dict() == {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
    assert rfm.loc["E", "rfm_segment"] == "champions"
    assert rfm.loc["A", "rfm_segment"] == "hibernating"


def test_value_tiers_by_expected_clv_and_potential():
    scores = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"],
            "expected_clv": [100.0, 90, 80, 70, 60, 50, 40, 30, 20, 10],
            "clv_if_retained": [100.0, 90, 80, 70, 60, 50, 40, 30, 20, 500],
            "total_revenue": [900.0, 800, 700, 600, 500, 1, 2, 3, 4, 5],
        }
    )
    config = ValueModelConfig(high_value_share=0.2, high_potential_share=0.1, core_share=0.3)
    tiers = dict(zip(scores["customer_id"], assign_value_tiers(scores, config), strict=True))
    assert tiers == {
        "A": "high_value",
        "B": "high_value",
        "J": "high_potential",
        "C": "core",
        "D": "core",
        "E": "core",
        "F": "low",
        "G": "low",
        "H": "low",
        "I": "low",
    }


def test_latency_trigger_uses_each_customers_own_rhythm():
    customers = pd.DataFrame(
        {
            "customer_id": ["weekly", "monthly", "new", "gone"],
            "frequency": [10, 4, 1, 5],
            "days_since_last": [15.0, 40.0, 90.0, 400.0],
            "typical_interval_days": [7.0, 30.0, 10.0, 20.0],
            "p_alive": [0.4, 0.9, 0.99, 0.01],
        }
    )
    t = detect_retention_triggers(
        customers,
        TriggerConfig(
            latency_multiple=1.5, min_repeat_purchases=2, lapsed_multiple=6, alive_threshold=0.5
        ),
    )
    t = t.set_index("customer_id")
    assert t["latency_breach"].to_dict() == {
        "weekly": True,
        "monthly": False,
        "new": False,
        "gone": True,
    }
    assert t["lapsed"].to_dict() == {"weekly": False, "monthly": False, "new": False, "gone": True}
    assert t["alive_drop"].to_dict() == {
        "weekly": True,
        "monthly": False,
        "new": False,
        "gone": True,
    }
    assert t.loc["weekly", "latency_ratio"] == 15 / 7
    assert pd.isna(t.loc["new", "latency_ratio"])


def test_triggers_compare_with_the_previous_run_and_fire_once():
    from datetime import date

    customers = pd.DataFrame(
        {
            "customer_id": ["steady", "dropping", "still_late", "new_late"],
            "frequency": [5, 5, 5, 5],
            "days_since_last": [10.0, 10.0, 90.0, 90.0],
            "typical_interval_days": [20.0, 20.0, 30.0, 30.0],
            "p_alive": [0.9, 0.6, 0.8, 0.8],
        }
    )
    previous = pd.DataFrame(
        {
            "customer_id": ["steady", "dropping", "still_late"],
            "p_alive": [0.92, 0.9, 0.85],
            "latency_since": [None, None, "2026-10-01"],
            "alive_drop_since": [None, None, None],
        }
    )
    t = detect_retention_triggers(
        customers, TriggerConfig(alive_drop_points=0.2), previous, date(2026, 10, 31)
    ).set_index("customer_id")
    assert t["alive_drop"].to_dict() == {
        "steady": False,
        "dropping": True,
        "still_late": False,
        "new_late": False,
    }
    assert t.loc["dropping", "p_alive_change"] == pytest.approx(-0.3)
    assert t["newly_fired"].to_dict() == {
        "steady": "",
        "dropping": "alive_drop",
        "still_late": "",
        "new_late": "latency_breach",
    }
    assert t.loc["still_late", "latency_since"] == pd.Timestamp("2026-10-01")
    assert t.loc["new_late", "latency_since"] == pd.Timestamp("2026-10-31")
    assert pd.isna(t.loc["steady", "latency_since"])
