"""The delivery flow as an operator runs it: destinations are blocks picked by name."""

from __future__ import annotations

import pytest
from factories_delivery import IDEA, NOW, publish_small_company
from fakes import FakeSlack
from prefect.client.orchestration import get_client
from pydantic import SecretStr

from patronage.flows.deliver import deliver
from patronage.flows.parameters import DeliveryParameters
from patronage.resources.database import make_engine
from patronage.tasks.io.destinations import SlackDestination
from patronage.work import set_idea_status

pytestmark = pytest.mark.slow


def test_a_run_sends_through_the_named_blocks_and_reports_ids_only(tmp_path, httpserver):
    slack = FakeSlack(httpserver)
    SlackDestination(webhook_url=SecretStr(slack.url), rate_per_second=100).save(
        "acme-community", overwrite=True
    )
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = make_engine(url)
    publish_small_company(engine)
    set_idea_status(engine, IDEA, "under_review", "pm-1")
    engine.dispose()

    counts = deliver(DeliveryParameters(database_url=url, slack_block="acme-community"))
    assert counts["sent"] == 2 and counts["dead"] == 0
    assert counts["routed"] == {"email": 0, "slack": 2, "skipped": 1, "waiting": 1}
    assert len(slack.texts) == 2
    with get_client(sync_client=True) as client:
        artifact = next(a for a in client.read_latest_artifacts() if a.key == "patronage-delivery")
    assert "| sent | 2 |" in artifact.data
    assert "@" not in artifact.data and "Dark mode" not in artifact.data


def test_a_missing_destination_block_fails_the_run_naming_it(tmp_path):
    state = deliver(
        DeliveryParameters(database_url=f"sqlite:///{tmp_path / 'p.db'}", slack_block="nope"),
        return_state=True,
    )
    assert state.is_failed()
    assert state.message.startswith("slack_block 'nope': no such Patronage slack destination")


def test_cases_without_their_destination_block_fail_the_run_naming_the_field(tmp_path):
    state = deliver(
        DeliveryParameters(
            database_url=f"sqlite:///{tmp_path / 'p.db'}", case_destination="zendesk"
        ),
        return_state=True,
    )
    assert state.is_failed() and "set zendesk_block" in state.message


def test_operators_hear_once_of_a_failed_nightly_and_of_piling_dead_letters(tmp_path, httpserver):
    from prefect import flow
    from prefect.states import Failed

    from patronage.schemas.tables import outbox

    @flow(name="patronage-nightly")
    def breached_nightly():
        return Failed(message="contract breach, nothing published:\norders: 40.0% rejected")

    run_id = breached_nightly(return_state=True).state_details.flow_run_id
    slack = FakeSlack(httpserver)
    SlackDestination(webhook_url=SecretStr(slack.url), rate_per_second=100).save(
        "acme-ops", overwrite=True
    )
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = make_engine(url)
    publish_small_company(engine)
    with engine.begin() as conn:  # two messages nobody could deliver
        for key in ("a", "b"):
            conn.execute(
                outbox.insert().values(
                    recipient_kind="customer", recipient_id="K1", kind="case_opened",
                    payload="{}", created_at=NOW, destination="zendesk", status="dead",
                    idempotency_key=key, last_error="zendesk: HTTP 401",
                )
            )  # fmt: skip
    engine.dispose()
    params = DeliveryParameters(
        database_url=url, slack_block="acme-ops", team_destination="slack",
        dead_letter_alert_at=2, digest_hour_utc=23,
    )  # fmt: skip
    deliver(params)
    # (other tests of the session may have failed nightlies of their own: look for this one)
    with get_client(sync_client=True) as client:
        name = client.read_flow_run(run_id).name
    mine = [t for t in slack.texts if t.startswith(f"Patronage nightly run {name} ")]
    assert len(mine) == 1
    assert "ended Failed: contract breach, nothing published:" in mine[0]
    dead_alerts = [t for t in slack.texts if "Patronage message(s) are dead letters" in t]
    assert len(dead_alerts) == 1 and dead_alerts[0].startswith("2 ")
    alerts = len(slack.texts)
    deliver(params)  # once each: nothing new to say
    assert len(slack.texts) == alerts
