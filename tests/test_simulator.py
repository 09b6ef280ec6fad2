from patronage.simulator import SampleSpec, generate_sample


def test_same_seed_same_company_and_different_seed_differs():
    a = generate_sample(SampleSpec(customers=60, seed=5))
    b = generate_sample(SampleSpec(customers=60, seed=5))
    c = generate_sample(SampleSpec(customers=60, seed=6))
    for name in a:
        assert a[name].equals(b[name]), name
    assert not a["orders"].equals(c["orders"])


def test_company_is_realistic_enough_to_find_something():
    t = generate_sample(SampleSpec(customers=500, seed=3))
    authors = t["truth_authors"]
    assert (authors["customer_id"] == "").mean() >= 0.5  # most speakers are not customers
    per_customer = t["orders"].groupby("customer_id")["amount"].sum()
    top_decile_share = per_customer.nlargest(len(per_customer) // 10).sum() / per_customer.sum()
    assert top_decile_share > 0.3  # heavy-tailed value
    assert t["truth_customers"]["leaving"].sum() > 20
    assert t["truth_ideas"].groupby("concept").size().max() >= 3  # ideas recur
    assert (t["orders"]["ordered_at"] <= "2026-11-01").all()
    assert (t["truth_holdout_orders"]["ordered_at"] > "2026-10-31").all()
