"""Retention and ideation queue transforms on small hand-made frames."""

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from patronage.config import IdeationConfig, Policy, RetentionPolicy, TriggerConfig
from patronage.tasks.transforms.queues.idea_grouping import group_texts, group_vectors
from patronage.tasks.transforms.queues.ideation_queue import build_ideation_queue
from patronage.tasks.transforms.queues.retention_queue import (
    apply_entry_cut,
    best_by_priority,
    build_retention_queue,
    case_candidates,
    conversation_evidence,
    entry_cut,
    rank_by_priority,
    retention_cases,
    score_priority,
    set_priority,
)
from patronage.tasks.transforms.text.text_encoder import load_encoder
from patronage.tasks.transforms.text.text_signals import embed_texts

AS_OF = date(2026, 10, 31)


def customers_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4"],
            "value_tier": ["high_value", "core", "low", "core"],
            "clv_if_retained": [1000.0, 400.0, 50.0, 300.0],
            "expected_clv": [900.0, 120.0, 40.0, 290.0],
            "p_alive": [0.9, 0.3, 0.8, 0.97],
            "p_stop": [0.2, 0.5, 0.1, 0.05],
            "value_if_retained_horizon": [500.0, 200.0, 20.0, 150.0],
            "latency_ratio": [1.0, 2.0, None, 1.1],
            "latency_breach": [False, True, False, False],
            "lapsed": [False, False, False, False],
            "alive_drop": [False, True, False, False],
            "days_since_last": [10.0, 60.0, 5.0, 12.0],
            "typical_interval_days": [10.0, 30.0, None, 11.0],
            "account_owner": ["owner-01", "", None, ""],
        }
    )


def conversations_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "conversation_id": ["post:P1", "ticket:T1", "post:P2"],
            "source": ["social_posts", "tickets", "social_posts"],
            "source_id": ["P1", "T1", "P2"],
            "customer_id": ["C1", "C2", None],
            "intent": ["churn_threat", "complaint", "praise"],
            "intent_confidence": [0.91, 0.77, 0.88],
            "sentiment": [-0.6, -0.4, 0.8],
            "occurred_at": pd.to_datetime(["2026-10-20", "2026-10-01", "2026-10-25"]),
        }
    )


def test_retention_queue_folds_reasons_into_one_case_and_ranks_by_value_at_risk():
    tickets = pd.DataFrame(
        {
            "ticket_id": ["T1"],
            "status": ["open"],
            "priority": ["high"],
            "created_at": pd.to_datetime(["2026-10-01"]),
        }
    )
    evidence = conversation_evidence(conversations_frame(), tickets, AS_OF, TriggerConfig())
    no_entry = Policy(retention=RetentionPolicy(entry_share=0))  # only triggers open cases here
    queue = build_retention_queue(customers_frame(), evidence, AS_OF, size=10, policy=no_entry)
    assert list(queue["case_id"]) == ["RET-C1", "RET-C2"]  # C3, C4: no reason
    c1, c2 = queue.iloc[0], queue.iloc[1]
    # C1: odds of P(stop) 0.2 → 0.25 × 3 (churn threat) = 0.75, P(leaving) 0.75 / 1.75;
    # expected value lost 500 × 0.428571 = 214.2857; urgency 1 + 0.1 × 1.0 = 1.1
    assert c1["value_at_risk"] == 214.29 and c1["priority_score"] == 235.7143
    assert c1["reason_codes"] == "churn_threat" and c1["owner"] == "owner-01"
    assert c1["due_date"] == date(2026, 11, 1)  # high value, public signal: 1 day
    # C2: odds 1 × 1.5 (complaint) × 1.5 (rotting ticket) = 2.25, P(leaving) 0.692308;
    # 200 × 0.692308 = 138.4615; urgency 1 + 0.1 × (0.5 + 0.5 + 0.5 + 0.25) = 1.175
    assert c2["value_at_risk"] == 138.46 and c2["priority_score"] == 162.6923
    assert c2["reason_codes"] == "complaint,rotting_ticket,latency_breach,alive_drop"
    assert c2["owner"] == "team:customer-care" and c2["due_date"] == date(2026, 11, 3)
    evidence_doc = json.loads(c2["evidence"])
    assert [i.get("ticket_id") or i.get("conversation_id") for i in evidence_doc["items"]] == [
        "ticket:T1",
        "T1",
    ]
    assert list(queue["priority_rank"]) == [1, 2]
    assert json.loads(c1["evidence"])["p_leaving"] == 0.429


TICKETS_NONE = pd.DataFrame(
    {"ticket_id": [], "status": [], "priority": [], "created_at": pd.to_datetime([])}
)


def test_much_value_likely_to_stop_buying_opens_a_case_without_any_trigger():
    evidence = conversation_evidence(conversations_frame(), TICKETS_NONE, AS_OF, TriggerConfig())
    # Expected losses: C1 214.29, C2 120.0 (complaint only), C4 7.5, C3 2.0. The 0.25
    # quantile of those is 2 + 0.75 × 5.5 = 6.125: C4 (one-time buyer, no trigger) is in.
    queue = build_retention_queue(
        customers_frame(),
        evidence,
        AS_OF,
        size=10,
        policy=Policy(retention=RetentionPolicy(entry_share=0.75)),
    )
    assert list(queue["case_id"]) == ["RET-C1", "RET-C2", "RET-C4"]
    c4 = queue.iloc[2]
    assert c4["reason_codes"] == "value_at_risk" and c4["value_at_risk"] == 7.5
    assert c4["priority_score"] == 7.5  # no urgency weight for value_at_risk by default


def test_ideas_are_grouped_by_meaning_at_the_configured_threshold():
    texts = [
        "Please add a dark mode to the app",
        "@acme suggestion: a night theme for the app would be easier on my eyes!",
        "Sell digital gift cards",
        "Could I buy a voucher online to send as a present?",
    ]
    vectors = embed_texts(load_encoder(), texts)
    assert group_vectors(vectors, IdeationConfig().merge_threshold).tolist() == [0, 0, 1, 1]


def test_a_wording_said_often_is_grouped_once_and_pulls_no_other_idea_in():
    # On a circle: "b" at 55°, "a" at 0° and "c" at 100°. b and c are one idea (45° apart);
    # a is as far from b as 55°, and nowhere near c.
    angles = {"a": 0.0, "b": 55.0, "c": 100.0}
    unit = {t: np.array([np.cos(np.radians(d)), np.sin(np.radians(d))]) for t, d in angles.items()}
    asked: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        asked.append(texts)
        return np.array([unit[t] for t in texts], dtype=np.float32)

    texts = ["b", "b", "a", "b", "c", "b", "b"]
    assert group_texts(texts, encode, threshold=0.40).tolist() == [0, 0, 1, 0, 0, 0, 0]
    assert asked == [["b", "a", "c"]]  # each wording once, in order of first mention
    # Each copy as a mention of its own: five "b"s pull "a" into their idea on average.
    assert group_vectors(encode(texts), threshold=0.40).tolist() == [0, 0, 0, 0, 0, 0, 0]
    assert group_texts([], encode).tolist() == []


def test_ideation_queue_keeps_supporters_and_weighs_customers_by_clv():
    conversations = pd.DataFrame(
        {
            "conversation_id": ["idea:I1", "post:P1", "idea:I2", "post:P2"],
            "source": ["ideas", "social_posts", "ideas", "social_posts"],
            "text": [
                "Dark mode for the app",
                "please add dark mode to the app",
                "Gift cards",
                "love it",
            ],
            "intent": ["suggestion", "suggestion", "other", "praise"],
            "is_brand": [False, False, False, False],
            "customer_id": ["C1", None, None, None],
            "stakeholder_id": [None, "S1", "S2", "S3"],
            "likes": [4.0, 0.0, 0.0, 0.0],
            "occurred_at": pd.to_datetime(["2026-01-01", "2026-10-20", "2026-02-01", "2026-10-01"]),
        }
    )
    customers = pd.DataFrame({"customer_id": ["C1"], "expected_clv": [99.0]})
    stakeholders = pd.DataFrame({"stakeholder_id": ["S1", "S2"], "influence": [4.0, 8.0]})
    items, supporters = build_ideation_queue(
        conversations, customers, stakeholders, AS_OF, IdeationConfig(momentum_days=30), size=10
    )
    assert list(items["idea_key"]) == ["IDEA-idea-I1", "IDEA-idea-I2"]
    dark = items.iloc[0]
    assert (dark["n_mentions"], dark["customer_supporters"], dark["stakeholder_supporters"]) == (
        2,
        1,
        1,
    )
    assert dark["title"] == "Dark mode for the app"
    # weights: C1 1 + ln(100) = 5.6052, S1 1 + 4/4 = 2 (recent: momentum 2/7.6052)
    assert dark["priority_score"] == pytest.approx(
        7.6052 * (1 + 2 / 7.6052) + 0.5 * 1.6094, abs=1e-3
    )
    assert items.iloc[1]["priority_score"] == pytest.approx(3.0, abs=1e-4)
    assert sorted(supporters["supporter_id"]) == ["C1", "S1", "S2"]


def test_a_short_reply_backs_the_idea_it_answers_and_is_never_an_idea_itself():
    conversations = pd.DataFrame(
        {
            "conversation_id": ["post:P1", "post:P2", "post:P3", "post:P4"],
            "source": ["social_posts"] * 4,
            "text": [
                "please add a dark theme to the app",
                "@acme +1",
                "love the new jackets",
                "THIS. EXACTLY THIS",
            ],
            "reply_to_id": [None, "post:P1", None, "post:P3"],
            "intent": ["suggestion", "suggestion", "praise", "suggestion"],
            "is_brand": [False] * 4,
            "customer_id": [None] * 4,
            "stakeholder_id": ["S1", "S2", "S3", "S4"],
            "likes": [0.0] * 4,
            "occurred_at": pd.to_datetime(["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"]),
        }
    )
    stakeholders = pd.DataFrame({"stakeholder_id": ["S1", "S2", "S3", "S4"], "influence": 0.0})
    items, supporters = build_ideation_queue(
        conversations,
        pd.DataFrame({"customer_id": [], "expected_clv": []}),
        stakeholders,
        AS_OF,
        IdeationConfig(),
        size=10,
    )
    assert list(items["idea_key"]) == ["IDEA-post-P1"]  # "THIS. EXACTLY THIS" is no idea
    assert items.iloc[0]["title"] == "please add a dark theme to the app"
    assert sorted(supporters["supporter_id"]) == ["S1", "S2"]  # the "+1" backs it


def test_people_split_and_merge_ideas_over_the_clustering():
    from patronage.tasks.transforms.queues.ideation_queue import apply_idea_overrides

    ids = ["idea:I1", "post:P1", "idea:I2", "post:P2", "idea:I3"]
    labels = np.array([0, 0, 1, 1, 2])
    assert apply_idea_overrides(ids, labels, None) == [
        "IDEA-idea-I1",
        "IDEA-idea-I1",
        "IDEA-idea-I2",
        "IDEA-idea-I2",
        "IDEA-idea-I3",
    ]
    overrides = pd.DataFrame(
        {
            "subject": ["post:P1", "IDEA-idea-I3", "IDEA-idea-I2"],
            "decision": ["split", "merge", "merge"],
            "target": [None, "IDEA-idea-I2", "IDEA-idea-I1"],  # I3 -> I2 -> I1: chains are followed
        }
    )
    assert apply_idea_overrides(ids, labels, overrides) == [
        "IDEA-idea-I1",
        "IDEA-post-P1",
        "IDEA-idea-I1",
        "IDEA-idea-I1",
        "IDEA-idea-I1",
    ]
    cycle = pd.DataFrame(
        {
            "subject": ["IDEA-idea-I1", "IDEA-idea-I2"],
            "decision": ["merge", "merge"],
            "target": ["IDEA-idea-I2", "IDEA-idea-I1"],
        }
    )
    assert apply_idea_overrides(ids[:3], labels[:3], cycle) == [
        "IDEA-idea-I1",
        "IDEA-idea-I1",
        "IDEA-idea-I1",
    ]


def test_due_dates_hold_while_a_case_stays_open_and_only_move_sooner():
    from patronage.tasks.transforms.queues.case_episodes import keep_due_dates

    produced = pd.DataFrame(
        {
            "case_id": ["RET-A", "RET-B", "RET-C", "RET-D"],
            "due_date": [
                date(2026, 11, 10),
                date(2026, 11, 2),
                date(2026, 11, 9),
                date(2026, 11, 8),
            ],
        }
    )
    existing = pd.DataFrame(
        {
            "case_id": ["RET-A", "RET-B", "RET-C"],
            "customer_id": ["A", "B", "C"],
            "status": ["in_progress", "open", "open"],
            "opened_at": [None, None, None],
            "resolved_at": [None, None, None],
            "due_date": [date(2026, 11, 5), date(2026, 11, 5), date(2026, 11, 1)],
            "pipeline_state": ["open", "open", "closed"],
        }
    )
    kept = keep_due_dates(produced, existing)
    # A keeps its promise; B's new evidence makes it sooner; C had dropped out (a new risk,
    # a new date); D is new.
    assert list(kept) == [
        date(2026, 11, 5),
        date(2026, 11, 2),
        date(2026, 11, 9),
        date(2026, 11, 8),
    ]


def test_only_replies_of_fewer_than_four_words_are_short_replies():
    from patronage.tasks.transforms.queues.ideation_queue import is_short_reply

    conversations = pd.DataFrame(
        {
            "text": [
                "+1",
                "@acme_support same here",
                "same here",
                "this would help me a lot",
                None,
            ],
            "reply_to_id": ["post:P1", "post:P1", None, "post:P2", "post:P3"],
        }
    )
    assert is_short_reply(conversations).tolist() == [True, True, False, False, True]


@pytest.mark.parametrize("size", [1, 2, 10])
def test_partitions_ranked_apart_give_the_queue_of_all_customers_at_once(size):
    """The entry cut from every partition's losses; each keeps its best ``size``; the best
    ``size`` of those are the best of all customers."""
    evidence = conversation_evidence(conversations_frame(), TICKETS_NONE, AS_OF, TriggerConfig())
    policy = Policy(retention=RetentionPolicy(entry_share=0.75))
    whole = build_retention_queue(customers_frame(), evidence, AS_OF, size=size, policy=policy)
    customers = customers_frame()
    parts = [customers.iloc[[0, 3]], customers.iloc[[1, 2]]]  # C1, C4 | C2, C3
    prioritised = [score_priority(p, evidence, policy.retention) for p in parts]
    cut = entry_cut(pd.concat([p["expected_loss"] for p in prioritised]), policy.retention)
    assert cut == pytest.approx(6.125)  # as the test above works out
    candidates = pd.concat(
        [case_candidates(apply_entry_cut(p, cut, policy.retention), size) for p in prioritised]
    ).sort_values(["priority_score", "customer_id"], ascending=[False, True])
    apart = retention_cases(candidates.head(size), AS_OF, policy)
    pd.testing.assert_frame_equal(apart, whole)
    assert list(apart["case_id"]) == ["RET-C1", "RET-C2", "RET-C4"][:size]


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 6, 7])
def test_the_best_by_priority_are_the_head_of_the_whole_ranking(size):
    # Ties at the size-th priority (0.5 three times) are ranked by id, as the full sort has them.
    frame = pd.DataFrame(
        {
            "customer_id": ["C7", "C2", "C5", "C1", "C9", "C3"],
            "priority_score": [0.5, 0.9, 0.5, 0.1, 0.5, 0.7],
        }
    )
    got = best_by_priority(frame, size)
    assert got["customer_id"].tolist() == ["C2", "C3", "C5", "C7", "C9", "C1"][:size]
    pd.testing.assert_frame_equal(got, rank_by_priority(frame).head(size))
    missing = frame.assign(priority_score=[0.5, np.nan, 0.5, 0.1, 0.5, 0.7])  # last, as sorted
    pd.testing.assert_frame_equal(
        best_by_priority(missing, size), rank_by_priority(missing).head(size)
    )


def test_candidates_from_unranked_priorities_are_those_of_the_ranking():
    evidence = conversation_evidence(conversations_frame(), TICKETS_NONE, AS_OF, TriggerConfig())
    policy = RetentionPolicy(entry_share=0.75)
    prioritised = score_priority(customers_frame(), evidence, policy)
    cut = entry_cut(prioritised["expected_loss"], policy)
    for size in (1, 2, 3, 4):
        pd.testing.assert_frame_equal(
            case_candidates(set_priority(prioritised.copy(), cut, policy), size),
            case_candidates(apply_entry_cut(prioritised.copy(), cut, policy), size),
        )
