"""Delivery against real servers on 127.0.0.1: Slack, HubSpot and Zendesk fakes answering as
documented, and a real SMTP server."""

from __future__ import annotations

import time

import pytest
from factories_delivery import IDEA, publish_small_company
from fakes import FakeHubSpot, FakeSlack, FakeZendesk, RecordingSmtp
from prefect_email import EmailServerCredentials, SMTPType
from pydantic import SecretStr
from sqlalchemy import select, update
from typer.testing import CliRunner

from patronage.cli import app
from patronage.resources.database import make_engine
from patronage.schemas.tables import outbox
from patronage.tasks.io.destinations import (
    EmailDestination,
    HubSpotDestination,
    SlackDestination,
    ZendeskDestination,
)
from patronage.tasks.stages.deliver_outbox import deliver_outbox
from patronage.work import set_idea_status


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'delivery.db'}")
    publish_small_company(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def smtp():
    with RecordingSmtp() as server:
        yield server


def email_block(smtp: RecordingSmtp) -> EmailDestination:
    return EmailDestination(
        smtp=EmailServerCredentials(
            smtp_server="127.0.0.1", smtp_type=SMTPType.INSECURE, smtp_port=smtp.port
        ),
        from_address="Acme Ideas <ideas@acme.example>",
        rate_per_second=1000,
    )


def run(engine, blocks: dict, case_destination=None, max_seconds=20.0, max_attempts=8):
    sessions = {name: block.open() for name, block in blocks.items()}
    try:
        return deliver_outbox(
            engine,
            sessions,
            {name: block.rate_per_second for name, block in blocks.items()},
            case_destination,
            "https://patronage.acme.example",
            max_seconds,
            max_attempts,
            seed=1,
        )
    finally:
        for session in sessions.values():
            session.close()


def statuses(engine) -> dict[int, tuple[str, str | None]]:
    with engine.connect() as conn:
        return {
            r.id: (r.status, r.last_error)
            for r in conn.execute(select(outbox.c.id, outbox.c.status, outbox.c.last_error))
        }


def test_idea_news_reaches_every_supporter_once_per_change_in_order(engine, smtp, httpserver):
    slack = FakeSlack(httpserver)
    for status in ("under_review", "planned", "shipped"):  # three changes in one night
        set_idea_status(engine, IDEA, status, "pm-1")
    blocks = {
        "email": email_block(smtp),
        "slack": SlackDestination(webhook_url=SecretStr(slack.url), rate_per_second=1000),
    }
    report = run(engine, blocks)

    # C1 has an address: three e-mails, in German, in the order of the changes
    assert [m["To"] for m in smtp.messages] == ["c1@example.test"] * 3
    bodies = [m.get_content() for m in smtp.messages]
    assert "prüft" in bodies[0] and "eingeplant" in bodies[1] and "umgesetzt" in bodies[2]
    assert all("Dark mode" in b for b in bodies)
    assert smtp.messages[0]["Subject"] == "Neues zu Ihrer Idee"
    # C3 (no address) and S1 (not a customer): a task for the community team per change
    assert len(slack.texts) == 6
    for who in ("C3", "S1"):
        mine = [t for t in slack.texts if f"({who})" in t]
        assert [t.split(" is now ")[1].split(".")[0] for t in mine] == [
            "under_review",
            "planned",
            "shipped",
        ]
    assert any("conversations/post:P4" in t for t in slack.texts)  # S1's thread
    # C2 opted out: told nothing
    assert report.routed["skipped"] == 3
    assert sorted(s for s, _ in statuses(engine).values()) == ["sent"] * 9 + ["skipped"] * 3
    # a second run sends nothing again
    again = run(engine, blocks)
    assert again.sent == [] and len(smtp.messages) == 3 and len(slack.texts) == 6


def test_429_with_retry_after_and_5xx_are_retried_and_the_wait_is_honoured(engine, httpserver):
    slack = FakeSlack(httpserver)
    slack.faults.plan = [429, 503]
    slack.faults.retry_after = "1"
    set_idea_status(engine, IDEA, "under_review", "pm-1")
    started = time.monotonic()
    report = run(engine, {"slack": SlackDestination(webhook_url=SecretStr(slack.url))})
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was waited for
    assert len(report.sent) == 2 and report.dead == [] and report.deferred == []
    assert report.attempts == 4  # two failures, then both messages
    assert len(slack.texts) == 2


def test_a_temporary_smtp_refusal_is_retried(engine, smtp):
    smtp.temporary_failures = 1
    set_idea_status(engine, IDEA, "under_review", "pm-1")
    report = run(engine, {"email": email_block(smtp)})
    assert len(report.sent) == 1 and len(smtp.messages) == 1


def test_messages_that_cannot_be_sent_before_the_run_ends_wait_for_the_next_run(engine, httpserver):
    slack = FakeSlack(httpserver)
    slack.faults.plan = [429]
    slack.faults.retry_after = "30"  # longer than this run may wait
    for status in ("under_review", "planned"):
        set_idea_status(engine, IDEA, status, "pm-1")
    block = SlackDestination(webhook_url=SecretStr(slack.url), rate_per_second=1000)
    first = run(engine, {"slack": block}, max_seconds=1)
    # the deferred head holds back the later news for the same supporter, but not others
    # C3's first news was refused: it and C3's later news wait; S1's both went (ids: C1 C2
    # C3 S1 per change; C1 waits for an e-mail destination, C2 opted out)
    assert first.deferred == [3, 7] and first.sent == [4, 8]
    with engine.begin() as conn:  # time passes
        conn.execute(update(outbox).values(next_attempt_at=None))
    second = run(engine, {"slack": block})
    assert second.sent == [3, 7]
    for who in ("C3", "S1"):
        mine = [t for t in slack.texts if f"({who})" in t]
        assert ["under_review" in mine[0], "planned" in mine[1]] == [True, True]


def test_cases_become_hubspot_tasks_once_and_bad_ones_go_to_the_dead_letters(engine, httpserver):
    hubspot = FakeHubSpot(httpserver, contacts={"k1@example.test": "501", "k2@example.test": "502"})
    hubspot.reject_cases = {"RET-K2"}
    block = HubSpotDestination(
        token=SecretStr("pat-test"),
        base_url=httpserver.url_for("/").rstrip("/"),
        owner_map={"team:key-accounts": "8812", "owner-03": "8813"},  # no team:growth
        rate_per_second=1000,
    )
    report = run(engine, {"hubspot": block}, case_destination="hubspot")
    assert report.cases_queued == 3
    assert set(hubspot.tasks) == {"RET-K1"}
    task = hubspot.tasks["RET-K1"]["properties"]
    assert task["patronage_case_id"] == "RET-K1" and task["hubspot_owner_id"] == "8812"
    assert task["hs_task_priority"] == "HIGH" and "RET-K1" in task["hs_task_body"]
    assert ("9000", "501") in hubspot.associations
    dead = {s[1] for s in statuses(engine).values() if s[0] == "dead"}
    assert dead == {
        "hubspot: HTTP 422",
        "hubspot: owner_map has no HubSpot owner for 'team:growth' (add it to the block's "
        "owner_map, then `patronage outbox retry`)",
    }
    # the rest of the batch went on; a second run neither repeats nor re-queues
    again = run(engine, {"hubspot": block}, case_destination="hubspot")
    assert again.cases_queued == 0 and again.sent == [] and hubspot.upserts == 1


def test_wrong_hubspot_credentials_dead_letter_with_the_status(engine, httpserver):
    FakeHubSpot(httpserver)
    block = HubSpotDestination(
        token=SecretStr("wrong"),
        base_url=httpserver.url_for("/").rstrip("/"),
        owner_map={"team:key-accounts": "1", "owner-03": "2", "team:growth": "3"},
    )
    report = run(engine, {"hubspot": block}, case_destination="hubspot")
    assert len(report.dead) == 3
    assert {s[1] for s in statuses(engine).values()} == {
        "hubspot: HTTP 401, check the hubspot block's credentials"
    }


def test_cases_become_internal_zendesk_tickets_and_a_repeat_is_folded(engine, httpserver):
    zendesk = FakeZendesk(httpserver)
    block = ZendeskDestination(
        base_url=httpserver.url_for("/").rstrip("/"),
        email="agent@acme.example",
        api_token=SecretStr("zd-token"),
        group_map={"team:key-accounts": 11, "owner-03": 12, "team:growth": 13},
        rate_per_second=1000,
    )
    report = run(engine, {"zendesk": block}, case_destination="zendesk")
    assert len(report.sent) == 3 and len(zendesk.tickets) == 3
    first = zendesk.tickets[0]
    assert first["external_id"] == "RET-K1" and first["group_id"] == 11
    assert first["comment"]["public"] is False  # Zendesk must not e-mail the customer
    assert first["requester"] == {"email": "k1@example.test", "name": "K1"}
    assert "patronage" in first["tags"]
    # a run killed after Zendesk answered but before the outcome was recorded
    with engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == report.sent[0]).values(status="in_flight"))
    again = run(engine, {"zendesk": block}, case_destination="zendesk")
    assert again.recovered_in_flight == [report.sent[0]] and again.sent == [report.sent[0]]
    assert len(zendesk.tickets) == 3 and zendesk.repeats == 1  # same key: the first ticket
    with engine.connect() as conn:
        refs = set(conn.execute(select(outbox.c.remote_ref)).scalars())
    assert refs == {"1000", "1001", "1002"}


def test_the_outbox_commands_list_show_retry_and_discard(engine, tmp_path, httpserver):
    FakeZendesk(httpserver)
    wrong = ZendeskDestination(
        base_url=httpserver.url_for("/").rstrip("/"),
        email="agent@acme.example",
        api_token=SecretStr("not-the-token"),
        group_map={"team:key-accounts": 11, "owner-03": 12, "team:growth": 13},
    )
    run(engine, {"zendesk": wrong}, case_destination="zendesk")
    url = str(engine.url)
    cli = CliRunner()
    listed = cli.invoke(app, ["outbox", "list", "--status", "dead", "--database-url", url])
    assert listed.exit_code == 0, listed.output
    assert "dead 3" in listed.output and "zendesk: HTTP 401" in listed.output
    shown = cli.invoke(app, ["outbox", "show", "1", "--database-url", url])
    assert "case_opened:RET-K1:zendesk" in shown.output
    retried = cli.invoke(app, ["outbox", "retry", "1", "2", "--database-url", url])
    assert retried.exit_code == 0 and "2 message(s) queued again" in retried.output
    discarded = cli.invoke(
        app, ["outbox", "discard", "3", "--reason", "customer left", "--database-url", url]
    )
    assert discarded.exit_code == 0
    assert [s for _, (s, _) in sorted(statuses(engine).items())] == [
        "pending",
        "pending",
        "discarded",
    ]
    missing = cli.invoke(app, ["outbox", "retry", "99", "--database-url", url])
    assert missing.exit_code == 2 and "no outbox message 99" in missing.output


def test_each_team_gets_one_morning_digest_and_one_alert_per_breached_case(engine, smtp):
    from datetime import UTC, datetime, timedelta

    from patronage.schemas.tables import retention_cases

    today = datetime.now(UTC).date()
    with engine.begin() as conn:
        for case, due in (("RET-K1", -1), ("RET-K2", 0), ("RET-K3", 3)):
            conn.execute(
                update(retention_cases)
                .where(retention_cases.c.case_id == case)
                .values(due_date=today + timedelta(days=due))
            )
    block = email_block(smtp).model_copy(
        update={
            "team_addresses": {
                "team:key-accounts": "key-accounts@acme.example",
                "owner-03": "owner-03@acme.example",
            }
        }
    )
    sessions = {"email": block.open()}
    report = deliver_outbox(
        engine, sessions, {"email": 1000}, None, "https://p.example", 10, 8,
        team_destination="email", digest_hour_utc=0,
    )  # fmt: skip
    sessions["email"].close()
    assert report.team_messages_queued == 4  # three digests, one SLA alert
    by_to = {}
    for m in smtp.messages:
        by_to.setdefault(m["To"], []).append(m)
    subjects = sorted(m["Subject"] for m in by_to["key-accounts@acme.example"])
    assert subjects == [
        f"Retention cases for team:key-accounts on {today}: 1 overdue, 0 due today, 1 new",
        f"SLA breached: case RET-K1 was due {today - timedelta(days=1)}",
    ]
    digest = next(m for m in by_to["owner-03@acme.example"]).get_content()
    assert "Due today: https://p.example/cases/RET-K2" in digest
    # team:growth has no address: its digest is a dead letter that names the field
    assert any(
        reason == "email: team_addresses has no address for 'team:growth' (add it to the "
        "block, then `patronage outbox retry`)"
        for _, reason in statuses(engine).values()
    )
    again = deliver_outbox(
        engine, {"email": block.open()}, {"email": 1000}, None, "https://p.example", 10, 8,
        team_destination="email", digest_hour_utc=0,
    )  # fmt: skip
    assert again.team_messages_queued == 0 and again.sent == []


def test_tickets_solved_or_reassigned_in_zendesk_are_followed_by_the_cases(engine, httpserver):
    from patronage.schemas.tables import retention_cases, work_log
    from patronage.work import claim, resolve_case

    zendesk = FakeZendesk(httpserver)
    block = ZendeskDestination(
        base_url=httpserver.url_for("/").rstrip("/"),
        email="agent@acme.example",
        api_token=SecretStr("zd-token"),
        group_map={"team:key-accounts": 11, "owner-03": 12, "team:growth": 13},
        rate_per_second=1000,
    )
    run(engine, {"zendesk": block}, case_destination="zendesk")
    # People work in Zendesk: K1's ticket is solved, K2's taken by agent 77, K3's solved too
    # but K3's case was resolved in Patronage first (the first resolution stands).
    tickets = {t["external_id"]: t for t in zendesk.tickets}
    tickets["RET-K1"]["status"] = "solved"
    tickets["RET-K2"].update(assignee_id=77, updated_at="2026-12-01T10:00:00Z")
    tickets["RET-K3"]["status"] = "closed"
    resolve_case(engine, "RET-K3", "won_back", "anna")
    report = run(engine, {"zendesk": block}, case_destination="zendesk")
    assert report.followed == {"resolved": 1, "reassigned": 1}
    with engine.connect() as conn:
        cases = {
            r.case_id: (r.status, r.outcome, r.assignee)
            for r in conn.execute(select(retention_cases))
        }
        logged = conn.execute(
            select(work_log.c.item_key, work_log.c.action, work_log.c.actor).where(
                work_log.c.actor == "zendesk"
            )
        ).all()
    assert cases["RET-K1"] == ("resolved", "closed_elsewhere", None)
    assert cases["RET-K2"] == ("in_progress", None, "zendesk:77")
    assert cases["RET-K3"] == ("resolved", "won_back", None)
    assert sorted(logged) == [("RET-K1", "resolve", "zendesk"), ("RET-K2", "assign", "zendesk")]
    # a person who claims K2 in Patronage after that keeps it; the next run changes nothing
    with engine.begin() as conn:
        conn.execute(
            update(retention_cases)
            .where(retention_cases.c.case_id == "RET-K2")
            .values(status="open", assignee=None, claimed_at=None)
        )
    claim(engine, "retention", "RET-K2", "ben")
    again = run(engine, {"zendesk": block}, case_destination="zendesk")
    assert again.followed == {"resolved": 0, "reassigned": 0}


def test_tasks_completed_in_hubspot_resolve_their_cases(engine, httpserver):
    from patronage.schemas.tables import retention_cases

    hubspot = FakeHubSpot(httpserver)
    block = HubSpotDestination(
        token=SecretStr("pat-test"),
        base_url=httpserver.url_for("/").rstrip("/"),
        owner_map={"team:key-accounts": "8812", "owner-03": "8813", "team:growth": "8814"},
        rate_per_second=1000,
    )
    run(engine, {"hubspot": block}, case_destination="hubspot")
    hubspot.tasks["RET-K1"]["properties"]["hs_task_status"] = "COMPLETED"
    hubspot.tasks["RET-K2"]["properties"]["hubspot_owner_id"] = "9999"
    report = run(engine, {"hubspot": block}, case_destination="hubspot")
    assert report.followed == {"resolved": 1, "reassigned": 1}
    with engine.connect() as conn:
        outcome = conn.execute(
            select(retention_cases.c.outcome).where(retention_cases.c.case_id == "RET-K1")
        ).scalar()
        holder = conn.execute(
            select(retention_cases.c.assignee).where(retention_cases.c.case_id == "RET-K2")
        ).scalar()
    assert outcome == "closed_elsewhere" and holder == "hubspot:9999"


def test_contact_points_follow_the_crm_export(engine):
    import pandas as pd

    from patronage.schemas.tables import contact_points
    from patronage.tasks.io.outbox import upsert_contact_points

    tonight = pd.DataFrame(
        {
            "customer_id": ["C1", "C9"],
            "email": ["new@example.test", ""],
            "language": ["fr", ""],
            "email_opt_out": ["true", "false"],
            "phone": ["(415) 555-2671", "12"],
        }
    )
    with engine.begin() as conn:
        assert upsert_contact_points(conn, tonight, "US") == 2
    with engine.connect() as conn:
        rows = {
            r.customer_id: (r.email, r.language, r.opted_out, r.phone, r.phone_key)
            for r in conn.execute(select(contact_points))
        }
    # C2, C3 and the K's left the export; C1 moved address and opted out
    assert rows == {
        "C1": ("new@example.test", "fr", 1, "(415) 555-2671", "phone:+14155552671"),
        "C9": (None, None, 0, "12", None),
    }
    # The same export again writes nothing; one changed number writes that one row.
    with engine.begin() as conn:
        assert upsert_contact_points(conn, tonight, "US") == 0
        assert upsert_contact_points(conn, tonight.assign(phone=["", "12"]), "US") == 1
        assert conn.execute(select(contact_points.c.phone_key)).scalars().all() == [None, None]
        # A customer twice in an export: the last row is the one kept.
        twice = pd.concat([tonight, tonight.tail(1).assign(email="later@example.test")])
        assert upsert_contact_points(conn, twice, "US") == 2
        emails = dict(
            conn.execute(select(contact_points.c.customer_id, contact_points.c.email)).all()
        )
        assert emails == {"C1": "new@example.test", "C9": "later@example.test"}


def test_contact_points_are_compared_by_the_hash_of_their_crm_fields(engine):
    import pandas as pd
    from sqlalchemy import update

    from patronage.schemas.tables import contact_points
    from patronage.tasks.io.outbox import upsert_contact_points
    from patronage.tasks.io.outbox.contacts import contact_hashes

    tonight = pd.DataFrame(
        {
            "customer_id": ["C1", "C9", "C5"],
            "email": ["a@example.test", "b@example.test", None],
            "email_opt_out": ["false", "true", "false"],
            "phone": ["(415) 555-2671", "", "(415) 555-2672"],
        }
    )
    hashes = contact_hashes(tonight, "US")
    assert hashes.dtype == "int64" and len(set(hashes)) == 3
    assert (contact_hashes(tonight, "US") == hashes).all()  # the same fields, the same hash
    assert (contact_hashes(tonight, "GB") != hashes).all()  # numbers read in another region
    with engine.begin() as conn:
        upsert_contact_points(conn, tonight, "US")
        stored = dict(
            conn.execute(select(contact_points.c.customer_id, contact_points.c.content_hash)).all()
        )
        assert stored == dict(zip(tonight["customer_id"], hashes.tolist(), strict=True))
        # Only the hash is read back: a row whose hash still matches is not written again…
        conn.execute(
            update(contact_points)
            .where(contact_points.c.customer_id == "C9")
            .values(email="stale@example.test")
        )
        assert upsert_contact_points(conn, tonight, "US") == 0
        # …unless a full refresh writes every row, or the hash is unknown (rows from before it).
        assert upsert_contact_points(conn, tonight, "US", compare_all=True) == 3
        conn.execute(update(contact_points).values(content_hash=None))
        assert upsert_contact_points(conn, tonight, "US") == 3
        assert upsert_contact_points(conn, tonight, "US") == 0
        # Another phone region hashes every row anew, so every row is written again.
        assert upsert_contact_points(conn, tonight, "GB") == 3
        emails = dict(
            conn.execute(select(contact_points.c.customer_id, contact_points.c.email)).all()
        )
    assert emails == {"C1": "a@example.test", "C9": "b@example.test", "C5": None}


def test_the_companys_own_wording_replaces_a_template_and_keeps_the_others(engine, smtp, tmp_path):
    wording = tmp_path / "wording"
    wording.mkdir()
    (wording / "idea_news.de.txt").write_text("Hallo! „{{ title }}“ ist jetzt {{ status }}.")
    set_idea_status(engine, IDEA, "under_review", "pm-1")
    sessions = {"email": email_block(smtp).open()}
    deliver_outbox(
        engine, sessions, {}, None, "https://p.example", 10, 8, templates=str(wording)
    )  # fmt: skip
    sessions["email"].close()
    assert smtp.messages[0].get_content().strip() == "Hallo! „Dark mode“ ist jetzt under_review."


def test_a_409_means_already_there_at_hubspot_and_try_again_at_zendesk(engine, httpserver):
    hubspot, zendesk = FakeHubSpot(httpserver), FakeZendesk(httpserver)
    hubspot.faults.plan = [409]  # the contact search of the first case answers 409
    zendesk.faults.plan = [409]  # a request with the same key is still in progress
    maps = {"team:key-accounts": "1", "owner-03": "2", "team:growth": "3"}
    base = httpserver.url_for("/").rstrip("/")
    hub = HubSpotDestination(token=SecretStr("pat-test"), base_url=base, owner_map=maps)
    first = run(engine, {"hubspot": hub}, case_destination="hubspot")
    assert len(first.sent) == 3 and first.dead == []
    desk = ZendeskDestination(
        base_url=base, email="agent@acme.example", api_token=SecretStr("zd-token"),
        group_map={k: int(v) for k, v in maps.items()},
    )  # fmt: skip
    second = run(engine, {"zendesk": desk}, case_destination="zendesk")
    assert len(second.sent) == 3 and second.attempts == 4 and len(zendesk.tickets) == 3


def test_the_same_idempotency_key_with_another_body_is_a_dead_letter(engine, httpserver):
    zendesk = FakeZendesk(httpserver)
    desk = ZendeskDestination(
        base_url=httpserver.url_for("/").rstrip("/"), email="agent@acme.example",
        api_token=SecretStr("zd-token"), group_map={"team:key-accounts": 1, "owner-03": 2,
        "team:growth": 3},
    )  # fmt: skip
    # A key Zendesk saw before with another body (e.g. a message edited by hand in the database)
    zendesk.by_key["case_opened:RET-K1:zendesk"] = ("{}", None)
    report = run(engine, {"zendesk": desk}, case_destination="zendesk")
    assert len(report.dead) == 1 and len(report.sent) == 2
    assert "zendesk: HTTP 400" in {reason for _, reason in statuses(engine).values()}
