import pandas as pd
import pytest

from patronage.tasks.transforms.linking.identity import (
    build_conversations,
    customer_identity_keys,
    normalize_email,
    normalize_handle,
    normalize_person_name,
    normalize_phone,
    stakeholder_id,
)


@pytest.mark.parametrize(
    ("rule", "raw", "expected"),
    [
        ("case folded", "Jane.Doe@Example.com", "jane.doe@example.com"),
        ("whitespace trimmed", "  jane.doe@example.com\t", "jane.doe@example.com"),
        ("plus tag dropped", "jane.doe+shop@example.com", "jane.doe@example.com"),
        ("only the first plus counts", "jane+a+b@outlook.com", "jane@outlook.com"),
        ("dots kept where the provider reads them", "j.a.n.e@outlook.com", "j.a.n.e@outlook.com"),
        ("dots dropped at gmail", "Jane.Doe@gmail.com", "janedoe@gmail.com"),
        ("googlemail is gmail", "jane.doe+x@googlemail.com", "janedoe@gmail.com"),
        ("no @ is no address", "not-an-email", None),
        ("empty local part", "+tag@gmail.com", None),
        ("missing", None, None),
    ],
)
def test_normalize_email(rule, raw, expected):
    assert normalize_email(raw) == expected, rule


@pytest.mark.parametrize(
    ("rule", "raw", "region", "expected"),
    [
        ("national format, default region", "(415) 555-2671", "US", "+14155552671"),
        ("dots", "415.555.2671", "US", "+14155552671"),
        ("trunk prefix 1", "1-415-555-2671", "US", "+14155552671"),
        ("already international", "+1 415 555 2671", "DE", "+14155552671"),
        ("tel: URI", "tel:+1-415-555-2671", "US", "+14155552671"),
        ("extension dropped", "+1 415 555 2671 ext. 12", "US", "+14155552671"),
        ("region decides a national number", "030 901820", "DE", "+4930901820"),
        ("international prefix of the region", "0044 20 7946 0958", "DE", "+442079460958"),
        ("not valid in the region", "(415) 555-2671", "GB", None),
        ("too short", "415-555-267", "US", None),
        ("not a number", "call me", "US", None),
        ("missing", None, "US", None),
    ],
)
def test_normalize_phone(rule, raw, region, expected):
    assert normalize_phone(raw, region) == expected, rule


def test_normalize_person_name():
    assert normalize_person_name("  José  O'Neil ") == "jose oneil"
    assert normalize_person_name("...") is None


def test_a_key_found_twice_for_one_customer_counts_once_and_a_shared_key_links_no_one():
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "email": ["ann@shop.io", "family@shop.io", "Family@Shop.io"],
            "phone": [None, None, None],
            "social_handles": ["twitter:ann; twitter:@Ann", "twitter:fam", None],
        }
    )
    tickets = pd.DataFrame(
        {"requester_email": ["ann@shop.io", "ann@shop.io"], "via_handle": ["ann", "anns"]}
    )
    keys = customer_identity_keys(customers, tickets)
    assert keys.to_dict("list") == {
        "identity_key": ["email:ann@shop.io", "twitter:ann", "twitter:fam", "twitter:anns"],
        "customer_id": ["C1", "C1", "C2", "C1"],
        "method": ["email", "crm_handle", "crm_handle", "ticket_handle"],
    }


def test_phone_keys_link_a_call_ticket_to_its_customer():
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "email": ["ann@shop.io", "bo@shop.io"],
            "phone": ["+1 (415) 555-2671", "not a phone"],
            "social_handles": [None, None],
        }
    )
    tickets = pd.DataFrame(
        {
            "ticket_id": ["T1", "T2"],
            "requester_email": [None, "Bo@Shop.io"],
            "requester_phone": ["415.555.2671", None],
            "via_handle": [None, None],
            "subject": ["a", "b"],
            "body": ["", ""],
            "created_at": pd.to_datetime(["2026-10-01", "2026-10-02"]),
        }
    )
    keys = customer_identity_keys(customers, tickets)
    assert set(keys.itertuples(index=False, name=None)) == {
        ("email:ann@shop.io", "C1", "email"),
        ("email:bo@shop.io", "C2", "email"),
        ("phone:+14155552671", "C1", "phone"),
    }
    empty = pd.DataFrame(columns=["comment_id", "ticket_id", "author_type", "body", "created_at"])
    no_posts = pd.DataFrame(
        columns=[
            "post_id",
            "platform",
            "author_handle",
            "text",
            "posted_at",
            "reply_to_id",
            "likes",
            "shares",
            "author_followers",
        ]
    )
    no_ideas = pd.DataFrame(
        columns=["idea_id", "author_email", "author_handle", "title", "votes", "created_at"]
    )
    conversations = build_conversations(no_posts, tickets, empty, no_ideas)
    assert conversations.set_index("source_id")["author_key"].to_dict() == {
        "T1": "phone:+14155552671",
        "T2": "email:bo@shop.io",
    }


def test_normalize_handle():
    assert normalize_handle("@Anna_K", "Twitter") == "twitter:anna_k"
    assert normalize_handle("  ") is None


def test_identity_keys_from_crm_and_tickets_and_ambiguity_dropped():
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "email": ["ann@shop.io", "bob@gmail.com", "b.o.b@gmail.com"],  # C2 and C3 collide
            "social_handles": ["twitter:AnnS", None, None],
        }
    )
    tickets = pd.DataFrame(
        {
            "ticket_id": ["T1"],
            "requester_email": ["ANN+help@shop.io"],
            "via_handle": ["@ann_alt"],
        }
    )
    keys = customer_identity_keys(customers, tickets)
    got = {(k, c, m) for k, c, m in keys.itertuples(index=False)}
    assert got == {
        ("email:ann@shop.io", "C1", "email"),
        ("twitter:anns", "C1", "crm_handle"),
        ("twitter:ann_alt", "C1", "ticket_handle"),
    }


def test_stakeholder_id_is_stable_and_free_of_the_handle():
    assert stakeholder_id("twitter:anns") == stakeholder_id("twitter:anns")
    assert "anns" not in stakeholder_id("twitter:anns")
    assert stakeholder_id("twitter:anns").startswith("S") and len(stakeholder_id("x")) == 13


def test_overrides_win_over_the_pipelines_keys():
    from patronage.tasks.transforms.linking.identity import apply_identity_overrides

    keys = pd.DataFrame(
        {
            "identity_key": ["email:a@x.io", "twitter:ann", "twitter:bob"],
            "customer_id": ["C1", "C1", "C2"],
            "method": ["email", "crm_handle", "crm_handle"],
        }
    )
    overrides = pd.DataFrame(
        {
            "identity_key": ["twitter:ann", "twitter:bob", "twitter:zoe"],
            "customer_id": ["C1", "C3", "C2"],
            "decision": ["cannot_link", "must_link", "must_link"],
        }
    )
    got = apply_identity_overrides(keys, overrides)
    assert sorted(map(tuple, got.to_numpy().tolist())) == [
        ("email:a@x.io", "C1", "email"),
        ("twitter:bob", "C3", "manual"),
        ("twitter:zoe", "C2", "manual"),
    ]


def test_an_unknown_phone_region_is_refused_by_name():
    from pydantic import ValidationError

    from patronage.config import IdentityConfig

    assert IdentityConfig(phone_region="de").phone_region == "DE"
    with pytest.raises(ValidationError, match="phone_region 'XX' is not a region"):
        IdentityConfig(phone_region="XX")


def test_a_remembered_phone_key_is_taken_without_parsing_again():
    from patronage.tasks.transforms.linking.identity import phone_key, remember_phone_keys

    # Stored keys no parser would give: taking them proves the number was not parsed again.
    remember_phone_keys("ZZ", {"(415) 555-2671": "phone:+10000000000", "12": None})
    assert phone_key("(415) 555-2671", "ZZ") == "phone:+10000000000"
    assert phone_key("12", "ZZ") is None
    # Another region is another key; an unknown number is parsed and then kept.
    assert phone_key("(415) 555-2671", "US") == "phone:+14155552671"
    assert phone_key("", "ZZ") is None and phone_key(None, "ZZ") is None
