"""The CRM's customers: names, contacts, signup, handles; the frame the CRM exports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from patronage.simulator.draft import ACCOUNT_OWNERS, AREA_CODES, Draft, handle_for


def draw_customers(d: Draft) -> None:
    """Customers and what the CRM knows of them (``d.customers``)."""
    spec = d.spec
    rng, first_pool, n, last_pool, city_pool, cutoff, start = (
        d.rng,
        d.first_pool,
        d.n,
        d.last_pool,
        d.city_pool,
        d.cutoff,
        d.start,
    )

    # --- customers -----------------------------------------------------------------------
    firsts = rng.choice(first_pool, n)
    lasts = rng.choice(last_pool, n)
    ids = np.array([f"C{i:06d}" for i in range(1, n + 1)])
    domains = rng.choice(
        ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "mail.com"],
        n,
        p=[0.45, 0.2, 0.15, 0.1, 0.1],
    )
    emails = np.array(
        [
            f"{f.lower()}.{ln.lower()}{i % 97}@{domain}"
            for i, (f, ln, domain) in enumerate(zip(firsts, lasts, domains, strict=True))
        ]
    )
    phones = np.array(
        [
            f"+1 ({AREA_CODES[rng.integers(200, 999) % len(AREA_CODES)]}) "
            f"{rng.integers(200, 999)}-{rng.integers(1000, 9999)}"
            for _ in range(n)
        ]
    )
    cities = rng.choice(city_pool, n)
    owners = np.where(rng.random(n) < 0.6, rng.choice(ACCOUNT_OWNERS, n), "")
    birth = rng.uniform(0, cutoff - 30, n)
    has_handle = rng.random(n) < 0.45
    handles = np.array(
        [
            handle_for(f, ln, rng) + str(i) if h else ""
            for i, (f, ln, h) in enumerate(zip(firsts, lasts, has_handle, strict=True))
        ]
    )
    crm_knows_handle = has_handle & (rng.random(n) < 0.5)

    # Profile details draw from their own stream so that purchases and posts stay as they were.
    profile_rng = np.random.default_rng([spec.seed, 1])

    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "name": [f"{f} {ln}" for f, ln in zip(firsts, lasts, strict=True)],
            "email": emails,
            "phone": phones,
            "city": cities,
            "account_owner": owners,
            "social_handles": np.where(crm_knows_handle, np.char.add("twitter:", handles), ""),
            "signup_date": (start + pd.to_timedelta(np.floor(birth), unit="D")).date,
        }
    )

    d.firsts = firsts
    d.lasts = lasts
    d.ids = ids
    d.emails = emails
    d.phones = phones
    d.cities = cities
    d.owners = owners
    d.birth = birth
    d.has_handle = has_handle
    d.handles = handles
    d.crm_knows_handle = crm_knows_handle
    d.profile_rng = profile_rng
    d.customers = customers
