"""The company's policy as configuration: defaults, file, parameter, and what it decides."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from patronage.config import Policy, PolicyFileError, RetentionPolicy, effective_policy
from patronage.tasks.transforms.linking.identity import is_brand_handle
from patronage.tasks.transforms.queues.retention_queue import build_retention_queue

AS_OF = date(2026, 10, 31)


def test_a_policy_names_no_brand_handle_unless_the_company_does():
    assert Policy().brand_handles == []
    handles = pd.Series(["@Acme_Support", "jane", None])
    assert is_brand_handle(handles, Policy().brand_handles).tolist() == [False, False, False]
    named = Policy(brand_handles=["@ACME_support", " acme_support "])
    assert named.brand_handles == ["acme_support"]
    assert is_brand_handle(handles, named.brand_handles).tolist() == [True, False, False]


def test_the_file_lies_over_the_defaults_and_a_set_parameter_field_over_the_file(tmp_path):
    file = tmp_path / "policy.yaml"
    file.write_text(
        "brand_handles: [acme]\n"
        "retention: {urgency_scale: 0.3, entry_share: 0.1}\n"
        "service_level_days: {low: {value_at_risk: 21}}\n"
    )
    parameter = Policy.model_validate({"retention": {"entry_share": 0.5}})
    policy = effective_policy(parameter, str(file))
    assert policy.brand_handles == ["acme"]  # from the file
    assert policy.retention.urgency_scale == 0.3  # from the file, kept under the override
    assert policy.retention.entry_share == 0.5  # the parameter's field wins
    assert policy.retention.lapsed_factor == 1.0  # default
    assert policy.service_level_days["low"]["value_at_risk"] == 21
    assert policy.service_level_days["low"]["churn_threat"] == 5  # rest of the row kept
    assert effective_policy(parameter, None) is parameter


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("retention: {urgency_scale: 7}\n", "retention.urgency_scale"),
        ("brand_handle: [acme]\n", "brand_handle: Extra inputs are not permitted"),
        ("team_by_tier: {platinum: team:vip}\n", "unknown platinum"),
        ("service_level_days: {core: {churn_threat: -1}}\n", "days must not be negative"),
        ("- just\n- a list\n", "holds a mapping"),
        ("retention: [unclosed\n", "not YAML"),
    ],
)
def test_a_bad_policy_file_is_refused_naming_the_file_and_the_field(tmp_path, content, message):
    file = tmp_path / "acme-policy.yaml"
    file.write_text(content)
    with pytest.raises(PolicyFileError, match="acme-policy.yaml") as refused:
        Policy.from_file(file)
    assert message in str(refused.value)


def test_due_dates_and_teams_follow_the_policy():
    policy = Policy(team_by_reason={"rotting_ticket": "team:support"})
    assert policy.due_in_days("core", ["latency_breach"]) == 7
    assert policy.due_in_days("core", ["latency_breach", "complaint"]) == 3  # soonest reason
    assert policy.team_for("core", ["complaint"]) == "team:customer-care"
    assert policy.team_for("core", ["complaint", "rotting_ticket"]) == "team:support"


def test_the_retention_queue_routes_and_dates_cases_by_the_policy():
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "value_tier": ["high_value", "core", "low"],
            "clv_if_retained": [1000.0, 400.0, 80.0],
            "expected_clv": [900.0, 120.0, 60.0],
            "p_alive": [0.9, 0.3, 0.7],
            "p_stop": [0.2, 0.5, 0.3],
            "value_if_retained_horizon": [500.0, 200.0, 40.0],
            "latency_ratio": [1.0, 2.0, 2.5],
            "latency_breach": [False, True, True],
            "lapsed": [False, False, False],
            "alive_drop": [False, False, False],
            "days_since_last": [10.0, 60.0, 75.0],
            "typical_interval_days": [10.0, 30.0, 30.0],
            "account_owner": [None, "", "owner-7"],
        }
    )
    evidence = pd.DataFrame(
        {
            "customer_id": ["C1"],
            "churn_threat": [False],
            "complaint": [False],
            "rotting_ticket": [True],
            "evidence_items": [[{"ticket_id": "T1"}]],
        }
    )
    policy = Policy(
        retention=RetentionPolicy(entry_share=0),
        team_by_reason={"rotting_ticket": "team:support"},
        team_by_tier={
            "high_value": "team:vip",
            "high_potential": "team:growth",
            "core": "team:care",
            "low": "team:care",
        },
        service_level_days={
            tier: dict.fromkeys(
                (
                    "churn_threat",
                    "complaint",
                    "rotting_ticket",
                    "latency_breach",
                    "alive_drop",
                    "value_at_risk",
                ),
                days,
            )
            for tier, days in (("high_value", 2), ("high_potential", 4), ("core", 10), ("low", 20))
        },
    )
    queue = build_retention_queue(customers, evidence, AS_OF, size=10, policy=policy)
    by_case = queue.set_index("case_id")
    assert by_case.loc["RET-C1", "owner"] == "team:support"  # the reason's team beats the tier's
    assert by_case.loc["RET-C1", "due_date"] == date(2026, 11, 2)
    assert by_case.loc["RET-C2", "owner"] == "team:care"
    assert by_case.loc["RET-C2", "due_date"] == date(2026, 11, 10)
    assert by_case.loc["RET-C3", "owner"] == "owner-7"  # the CRM's account owner wins
    assert by_case.loc["RET-C3", "due_date"] == date(2026, 11, 20)


def test_a_run_that_sets_one_policy_field_keeps_the_deployments_others(monkeypatch, tmp_path):
    from patronage.flows import nightly as nightly_module
    from patronage.flows.parameters import NightlyParameters

    file = tmp_path / "company.yaml"
    file.write_text("brand_handles: [acme]\nretention: {urgency_scale: 0.3}\n")
    stored = {
        "params": ({"as_of": "2026-10-31", "policy_file": str(file)}, {"dry_run": True}),
        "policy": (
            {"team_by_reason": {"complaint": "team:care"}},
            {"retention": {"entry_share": 0.4}},
        ),
    }
    monkeypatch.setattr(nightly_module, "read_deployment_parameters", lambda names: stored)
    params, policy = nightly_module.effective_parameters(NightlyParameters(), Policy())
    assert params.dry_run and params.policy_file == str(file)  # deployment's field kept
    assert policy.brand_handles == ["acme"]  # from the deployment's policy file
    assert policy.retention.urgency_scale == 0.3
    assert policy.retention.entry_share == 0.4  # the run's one field
    assert policy.team_by_reason == {"complaint": "team:care"}  # the deployment's policy
