"""The CRM's customers: names, contacts, signup, handles; the frame the CRM exports."""

from __future__ import annotations

import numpy as np
import pandas as pd

from patronage.simulator.draft import ACCOUNT_OWNERS, AREA_CODES, Draft, handles_for, serial_ids


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
    ids = serial_ids("C", n, 6)
    domains = rng.choice(
        ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "mail.com"],
        n,
        p=[0.45, 0.2, 0.15, 0.1, 0.1],
    )
    s = np.strings
    emails = s.add(
        s.add(s.add(s.lower(firsts), "."), s.add(s.lower(lasts), (np.arange(n) % 97).astype("U"))),
        s.add("@", domains),
    )
    # One array draw gives the numbers the per-customer draws gave, in the same order.
    digits = rng.integers([200, 200, 1000], [999, 999, 9999], size=(n, 3))
    area = np.asarray(AREA_CODES)[digits[:, 0] % len(AREA_CODES)].astype("U")
    phones = s.add(
        s.add(s.add("+1 (", area), s.add(") ", digits[:, 1].astype("U"))),
        s.add("-", digits[:, 2].astype("U")),
    )
    cities = rng.choice(city_pool, n)
    owners = np.where(rng.random(n) < 0.6, rng.choice(ACCOUNT_OWNERS, n), "")
    birth = rng.uniform(0, cutoff - 30, n)
    has_handle = rng.random(n) < 0.45
    with_handle = np.flatnonzero(has_handle)
    handles = np.full(n, "", dtype=object)
    handles[with_handle] = [
        f"{handle}{i}"
        for handle, i in zip(
            handles_for(firsts[with_handle], lasts[with_handle], rng),
            with_handle.tolist(),
            strict=True,
        )
    ]
    handles = handles.astype(str)
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
    d.names = customers["name"].tolist()
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
