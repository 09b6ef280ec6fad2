import pandas as pd
import pytest

from tasks.transforms.identity import (
    customer_identity_keys,
    normalize_email,
    normalize_handle,
    stakeholder_id,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Jane.Doe@Example.com", "jane.doe@example.com"),
    ("  jane.doe+shop@example.com ", "jane.doe@example.com"),
    ("Jane.Doe@gmail.com", "janedoe@gmail.com"),
    ("jane.doe+x@googlemail.com", "janedoe@gmail.com"),
    ("not-an-email", None),
    (None, None),
])
def test_normalize_email(raw, expected):
    assert normalize_email(raw) == expected


def test_normalize_handle():
    assert normalize_handle("@Anna_K", "Twitter") == "twitter:anna_k"
    assert normalize_handle("  ") is None


def test_identity_keys_from_crm_and_tickets_and_ambiguity_dropped():
    customers = pd.DataFrame({
        "customer_id": ["C1", "C2", "C3"],
        "email": ["ann@shop.io", "bob@gmail.com", "b.o.b@gmail.com"],  # C2 and C3 collide
        "social_handles": ["twitter:AnnS", None, None],
    })
    tickets = pd.DataFrame({
        "ticket_id": ["T1"], "requester_email": ["ANN+help@shop.io"], "via_handle": ["@ann_alt"],
    })
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
    from tasks.transforms.identity import apply_identity_overrides

    keys = pd.DataFrame({"identity_key": ["email:a@x.io", "twitter:ann", "twitter:bob"],
                         "customer_id": ["C1", "C1", "C2"], "method": ["email", "crm_handle", "crm_handle"]})
    overrides = pd.DataFrame({"identity_key": ["twitter:ann", "twitter:bob", "twitter:zoe"],
                              "customer_id": ["C1", "C3", "C2"],
                              "decision": ["cannot_link", "must_link", "must_link"]})
    got = apply_identity_overrides(keys, overrides)
    assert sorted(map(tuple, got.to_numpy().tolist())) == [
        ("email:a@x.io", "C1", "email"), ("twitter:bob", "C3", "manual"), ("twitter:zoe", "C2", "manual")]
