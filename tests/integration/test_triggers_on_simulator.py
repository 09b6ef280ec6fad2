"""Just-in-time triggers against a plain "days since last purchase" ranking, on ground truth."""

from patronage.config import TriggerConfig, ValueModelConfig
from patronage.simulator import SampleSpec, generate_sample
from patronage.tasks.transforms.value.bgnbd import fit_bgnbd
from patronage.tasks.transforms.value.customer_summary import summarize_transactions
from patronage.tasks.transforms.value.customer_value import score_customer_value
from patronage.tasks.transforms.value.gamma_gamma import fit_gamma_gamma
from patronage.tasks.transforms.value.retention_triggers import detect_retention_triggers

QUEUE_SIZE = 50


def test_triggers_catch_customers_leaving_around_the_cutoff_earlier_and_more_precisely():
    spec = SampleSpec(customers=2000, seed=11)
    tables = generate_sample(spec, wording_in_child=False)  # no fork of the test process
    summary = summarize_transactions(tables["orders"], spec.as_of)
    scores = score_customer_value(
        summary, fit_bgnbd(summary), fit_gamma_gamma(summary), ValueModelConfig()
    ).merge(summary, on="customer_id")
    scores = scores.merge(detect_retention_triggers(scores, TriggerConfig()), on="customer_id")
    truth = tables["truth_customers"].set_index("customer_id")
    cutoff = spec.history_days
    # Leaving around the cut-off: dropped out in the 60 days before it or the 180 days after.
    leaving = truth["dropout_day"].between(cutoff - 60, cutoff + 180)

    triggered = scores[scores["latency_breach"] & ~scores["lapsed"]]
    by_trigger = triggered.sort_values(["value_at_risk", "customer_id"], ascending=[False, True])
    by_silence = scores[scores["frequency"] >= 2].sort_values(
        ["days_since_last", "customer_id"], ascending=[False, True]
    )
    top_trigger = by_trigger.head(QUEUE_SIZE).set_index("customer_id")
    top_silence = by_silence.head(QUEUE_SIZE).set_index("customer_id")
    precision_trigger = leaving.loc[top_trigger.index].mean()
    precision_silence = leaving.loc[top_silence.index].mean()
    # Measured (2,000 customers, seed 11, top 50): triggers 0.42, days-since-last 0.00 — the
    # silence ranking fills its top with customers long gone (win-back, not just-in-time).
    assert precision_trigger >= 0.35, precision_trigger
    assert precision_silence <= 0.05, precision_silence
    caught = top_trigger[leaving.loc[top_trigger.index].to_numpy()]
    # Earlier: caught a median 44 days after their last purchase, where the silence ranking's
    # top sits at 300+ days.
    assert caught["days_since_last"].median() <= 60
    assert top_silence["days_since_last"].min() >= 300
