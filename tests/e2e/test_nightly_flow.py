"""End to end: the nightly flow on a generated company, judged against ground truth."""

from __future__ import annotations

import shutil
from datetime import date

import pandas as pd
import pytest
from prefect import get_client
from sqlalchemy import text
from typer.testing import CliRunner

from patronage.cli import app
from patronage.flows.nightly import ContractBreachError, nightly
from patronage.resources.database import make_engine
from patronage.tasks.io.publish_queues import queue_fingerprint
from patronage.work import list_items

from factories import nightly_params

AS_OF = date(2026, 10, 31)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(sample_company, tmp_path_factory):
    """Run the flow twice on the same input; return the database URL and both summaries."""
    exports, _truth = sample_company
    url = f"sqlite:///{tmp_path_factory.mktemp('nightly') / 'patronage.db'}"
    params = nightly_params(data_location=str(exports), database_url=url, as_of=AS_OF)
    first = nightly(params)
    engine = make_engine(url)
    fingerprint = queue_fingerprint(engine)
    second = nightly(params)
    assert queue_fingerprint(engine) == fingerprint
    engine.dispose()
    return url, first, second


@pytest.fixture(scope="module")
def retention_and_truth(published, sample_company) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The published retention queue, and the simulator's truth per customer."""
    engine = make_engine(published[0])
    queue = list_items(engine, "retention")
    engine.dispose()
    return queue, pd.read_csv(sample_company[1] / "customers.csv").set_index("customer_id")


def test_retention_top_20_is_mostly_valuable_customers_who_really_are_leaving(retention_and_truth):
    queue, truth = retention_and_truth
    top = truth.loc[queue["customer_id"].head(20)]
    repeat = truth[truth["orders_before_cutoff"] >= 2]
    leaving_precision = top["leaving"].mean()
    valuable_leaving_precision = (top["leaving"] & top["valuable"]).mean()
    base_rate = (repeat["leaving"] & repeat["valuable"]).mean()
    # Measured on this company (400 customers, seed 11): 0.65 leaving, 0.55 valuable and
    # leaving, against a base rate of 0.12 among its 320 repeat customers. (Ranked by stated
    # risk before value at risk, the top 20 were 0.75 leaving but only 0.45 valuable and leaving:
    # the priority now puts the value that can be saved first.)
    assert leaving_precision >= 0.60, leaving_precision
    assert valuable_leaving_precision >= 0.50, valuable_leaving_precision
    assert valuable_leaving_precision >= 2.5 * base_rate, (valuable_leaving_precision, base_rate)


def test_retention_top_50_captures_half_the_value_at_risk_of_customers_really_leaving(
    retention_and_truth,
):
    queue, truth = retention_and_truth
    truth = truth.copy()
    # True value at risk: a year of the spend the customer would bring while still buying.
    truth["value_at_risk"] = truth["purchase_rate_per_day"] * truth["mean_spend"] * 365
    at_risk_total = truth.loc[truth["leaving"], "value_at_risk"].sum()
    top = truth.loc[queue["customer_id"].head(50)]
    captured = top.loc[top["leaving"], "value_at_risk"].sum() / at_risk_total
    best_possible = truth.loc[truth["leaving"], "value_at_risk"].nlargest(50).sum() / at_risk_total
    # Measured (400 customers, seed 11; 108 really leaving): the top 50 capture 0.598 of their
    # value at risk (0.507 with the earlier priority); the best possible 50 would capture 0.856,
    # 50 random customers 0.12.
    assert captured >= 0.55, captured
    assert captured >= 0.55 * best_possible, (captured, best_possible)


def test_second_run_changes_nothing(published):
    _url, first, second = published
    assert first["queues_changed"] is True
    assert second["queues_changed"] is False
    assert first["queues"] == second["queues"]
    assert first["queues"]["retention"] > 0 and first["queues"]["ideation"] > 0


def test_the_second_night_validates_only_what_changed_and_publishes_the_same(published):
    _url, first, second = published
    assert all(d["validated_before"] == 0 for d in first["datasets"].values())
    # Nothing changed: every valid row is known, and the outcome is the first night's.
    for name, counts in second["datasets"].items():
        assert counts["validated_before"] == counts["valid"] > 0, name
        assert {k: v for k, v in counts.items() if k != "validated_before"} == {
            k: v for k, v in first["datasets"][name].items() if k != "validated_before"
        }


def test_each_text_is_encoded_and_its_language_identified_once_and_both_kept(published):
    url, first, second = published
    engine = make_engine(url)
    with engine.connect() as conn:
        stored, with_language = conn.execute(
            text("SELECT COUNT(*), COUNT(language) FROM text_embeddings")
        ).one()
    engine.dispose()
    # The simulator writes from a few dozen sentence templates: few distinct texts to encode.
    assert first["text_vectors"]["stored_before"] == 0 and first["text_vectors"]["encoded"] > 20
    assert first["text_vectors"]["languages_identified"] > 20
    # Each distinct text read by the text model once (the seed set's texts are not read).
    assert first["text_vectors"]["read"] > 20
    assert second["text_vectors"] == {
        "stored_before": first["text_vectors"]["encoded"],
        "encoded": 0,
        "languages_identified": 0,
        "read": 0,
    }
    # Every stored text of three words or more has its language; shorter ones need none.
    assert stored == first["text_vectors"]["encoded"]
    assert with_language == first["text_vectors"]["languages_identified"] <= stored
    assert first["languages"] == second["languages"]


def test_run_summary_counts_every_stage(published):
    _url, first, _second = published
    assert set(first["stages"]) == {
        "extract",
        "validate",
        "read_texts",
        "score_customers",
        "link_conversations",
        "build_queues",
        "publish",
    }
    assert all(
        d["quarantined"] == 0 and d["read"] == d["valid"] for d in first["datasets"].values()
    )
    # Each stage's peak memory: the process's peak so far, so it never falls.
    peaks = [s["peak_mib"] for s in first["stages"].values()]
    assert peaks == sorted(peaks) and peaks[0] > 50
    assert first["model"]["bgnbd_method"] == "mle"


def test_artifacts_and_logs_hold_ids_never_names_emails_handles_or_text(published, sample_company):
    exports = sample_company[0]
    customers = pd.read_csv(exports / "crm" / "customers.csv", dtype=str, keep_default_na=False)
    posts = pd.read_json(exports / "social" / "posts.jsonl", lines=True, dtype=str)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
        logs = client.read_logs()
    text = "\n".join(str(a.data) for a in artifacts if (a.key or "").startswith("patronage-"))
    assert "RET-C" in text and "IDEA-" in text
    text += "\n".join(log.message for log in logs)
    secrets = set(customers["email"]) | set(customers["name"]) | set(posts["author_handle"])
    secrets |= set(posts["text"])
    leaked = sorted(s for s in secrets if s and len(s) > 3 and s in text)
    assert leaked == []


def test_cli_prints_both_queues(published):
    url, _first, _second = published
    result = CliRunner().invoke(app, ["queues", "--database-url", url, "--top", "3"])
    assert result.exit_code == 0, result.output
    assert "Retention queue" in result.output and "Ideation queue" in result.output
    assert result.output.count("RET-") == 0  # cases are shown by customer id
    assert "C0" in result.output


def test_contract_breach_fails_the_run_and_leaves_queues_untouched(
    published, sample_company, tmp_path
):
    url, _first, _second = published
    broken = tmp_path / "exports"
    shutil.copytree(sample_company[0], broken)
    orders_path = broken / "crm" / "orders.csv"
    orders = pd.read_csv(orders_path, dtype=str, keep_default_na=False)
    orders.loc[orders.index[: int(len(orders) * 0.4)], "amount"] = "not-a-number"
    orders.to_csv(orders_path, index=False)
    engine = make_engine(url)
    before = queue_fingerprint(engine)
    with pytest.raises(ContractBreachError, match=r"orders: 40\.0% of rows rejected .*cast:amount"):
        nightly(nightly_params(data_location=str(broken), database_url=url, as_of=AS_OF))
    assert queue_fingerprint(engine) == before
    engine.dispose()


def test_dry_run_builds_but_does_not_publish(sample_company, tmp_path):
    url = f"sqlite:///{tmp_path / 'dry.db'}"
    summary = nightly(
        nightly_params(
            data_location=str(sample_company[0]), database_url=url, as_of=AS_OF, dry_run=True
        )
    )
    assert summary["published"] is False and summary["queues"]["retention"] > 0
    assert not (tmp_path / "dry.db").exists()


def test_database_url_with_password_is_refused():
    with pytest.raises(ValueError, match="must not contain a password"):
        nightly_params(database_url="postgresql://app:s3cret@db/patronage")


def test_each_run_stores_its_fit_and_triggers_do_not_fire_twice(published):
    from sqlalchemy import func, select

    from patronage.schemas.tables import customer_scores, model_runs

    url, first, second = published
    engine = make_engine(url)
    with engine.connect() as conn:
        runs = conn.execute(select(model_runs).order_by(model_runs.c.created_at)).all()
        scored = conn.execute(select(func.count()).select_from(customer_scores)).scalar()
    engine.dispose()
    assert [r.run_id for r in runs] == [first["run_id"], second["run_id"]]
    assert runs[0].bgnbd_method == "mle" and runs[0].bgnbd_log_likelihood == pytest.approx(
        first["model"]["bgnbd_ll"]
    )
    assert runs[0].n_customers == first["model"]["n_customers"] == scored
    assert first["model"]["triggers_fired"] > 0
    assert second["model"]["triggers_fired"] == 0  # same drift, same as-of: nothing fires again
    # The first night fits; the second scores with that fit (not due: 0 of 7 days old).
    assert first["model"]["refit"] == "no fit stored" and second["model"]["refit"] == ""
    assert [r.fitted_as_of for r in runs] == [AS_OF, AS_OF]
    fits = [(r.bgnbd_r, r.bgnbd_alpha, r.bgnbd_a, r.bgnbd_b, r.gamma_gamma_p) for r in runs]
    assert fits[1] == fits[0]


def test_manual_identity_decisions_are_stored_and_read_by_the_next_run(sample_company, tmp_path):
    from patronage.resources.database import PatronageDatabase
    from patronage.tasks.io.identity_overrides import read_identity_overrides

    exports = sample_company[0]
    url = f"sqlite:///{tmp_path / 'ids.db'}"
    result = CliRunner().invoke(
        app,
        [
            "identity",
            "link",
            "--key",
            "twitter:Some_Fan",
            "--customer",
            "C000001",
            "--database-url",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert read_identity_overrides.fn(PatronageDatabase(url=url)).to_dict("records") == [
        {"identity_key": "twitter:some_fan", "customer_id": "C000001", "decision": "must_link"}
    ]
    summary = nightly(nightly_params(data_location=str(exports), database_url=url, as_of=AS_OF))
    assert summary["queues"]["retention"] > 0
    bad = CliRunner().invoke(
        app, ["identity", "link", "--key", "no-colon", "--customer", "C1", "--database-url", url]
    )
    assert bad.exit_code == 2 and "must look like" in bad.output


def test_linking_respects_must_and_cannot_link():
    from patronage.config import IdentityConfig
    from patronage.tasks.stages.link_conversations import link_conversations

    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "email": ["ann@x.io", "bob@x.io"],
            "social_handles": ["twitter:ann", ""],
        }
    )
    at = pd.Timestamp("2026-10-01")
    posts = pd.DataFrame(
        {
            "post_id": ["P1", "P2"],
            "platform": ["twitter", "twitter"],
            "author_handle": ["ann", "bobby"],
            "author_display_name": ["A", "B"],
            "text": ["hi", "hello"],
            "posted_at": [at, at],
            "reply_to_id": [None, None],
            "likes": [0, 0],
            "shares": [0, 0],
            "author_followers": [1, 1],
        }
    )
    tickets = pd.DataFrame(
        columns=["ticket_id", "requester_email", "via_handle", "subject", "body", "created_at"]
    )
    comments = pd.DataFrame(
        columns=["comment_id", "ticket_id", "author_type", "body", "created_at"]
    )
    ideas = pd.DataFrame(
        columns=["idea_id", "author_email", "author_handle", "title", "votes", "created_at"]
    )
    overrides = pd.DataFrame(
        {
            "identity_key": ["twitter:ann", "twitter:bobby"],
            "customer_id": ["C1", "C2"],
            "decision": ["cannot_link", "must_link"],
        }
    )
    exact_only = IdentityConfig(probabilistic=False)
    before, _, _, _ = link_conversations.fn(
        customers, posts, tickets, comments, ideas, identity=exact_only
    )
    after, _, _, _ = link_conversations.fn(
        customers, posts, tickets, comments, ideas, overrides, identity=exact_only
    )
    linked_before = before.set_index("source_id")["customer_id"]
    linked_after = after.set_index("source_id")["customer_id"]
    assert (linked_before["P1"], pd.isna(linked_before["P2"])) == ("C1", True)
    assert (pd.isna(linked_after["P1"]), linked_after["P2"]) == (True, "C2")
    assert after.set_index("source_id")["link_method"].to_dict()["P2"] == "manual"
