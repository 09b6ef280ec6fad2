"""Linking throughput of the nightly's identity step (exact keys, then probabilistic links on
name and location) at scale. `make bench-linking` (CUSTOMERS=…, CONVERSATIONS=…).

Prints records per second and peak memory; asserts nothing.
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np
import pandas as pd


def _names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last names with realistic spreads: a few thousand first names, a long tail
    of surnames."""
    first = np.char.add("f", rng.integers(0, 5000, n).astype(str))
    # Weights 1/(rank + 100) over 150,000 surnames: the commonest holds 1.4 % (Smith: 0.8 %).
    weights = 1.0 / (np.arange(150_000) + 100.0)
    last = np.char.add("l", rng.choice(150_000, n, p=weights / weights.sum()).astype(str))
    return first, last


def synthetic(customers: int, conversations: int, seed: int = 9) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.char.add("C", np.arange(customers).astype(str))
    handles = np.char.add("user", np.arange(customers).astype(str))
    first, last = _names(rng, customers)
    city = np.char.add("city", rng.integers(0, 2000, customers).astype(str))
    crm = pd.DataFrame(
        {
            "customer_id": ids,
            "name": np.char.add(np.char.add(first, " "), last),
            "city": city,
            "email": np.char.add(
                np.char.add("first.last", np.arange(customers).astype(str)), "@gmail.com"
            ),
            "phone": None,
            "social_handles": np.where(
                rng.random(customers) < 0.5, np.char.add("twitter:", handles), ""
            ),
        }
    )
    # Half the speakers are customers (by handle, with their name and city on the profile),
    # half are not (other names, other places).
    is_customer = rng.random(conversations) < 0.5
    who = rng.integers(0, customers, conversations)
    fan = rng.integers(0, conversations, conversations)
    fan_first, fan_last = _names(np.random.default_rng(seed + 1), conversations)
    author = np.where(is_customer, handles[who], np.char.add("fan", fan.astype(str)))
    display = np.where(
        is_customer,
        crm["name"].to_numpy()[who].astype(str),
        np.char.add(np.char.add(fan_first[fan], " "), fan_last[fan]),
    )
    location = np.where(is_customer, city[who], np.char.add("city", (fan % 2000).astype(str)))
    at = pd.Timestamp("2026-10-01")
    posts = pd.DataFrame(
        {
            "post_id": np.char.add("P", np.arange(conversations).astype(str)),
            "platform": "twitter",
            "author_handle": author,
            "author_display_name": display,
            "author_location": location,
            "text": "@acme love it",
            "posted_at": at,
            "reply_to_id": None,
            "likes": 0,
            "shares": 0,
            "author_followers": 10,
        }
    )
    tickets = pd.DataFrame(
        {
            "ticket_id": ["T1"],
            "requester_email": ["first.last1@gmail.com"],
            "via_handle": ["user1"],
            "subject": ["s"],
            "body": ["b"],
            "created_at": [at],
        }
    )
    comments = pd.DataFrame(
        columns=["comment_id", "ticket_id", "author_type", "body", "created_at"]
    )
    ideas = pd.DataFrame(
        columns=["idea_id", "author_email", "author_handle", "title", "votes", "created_at"]
    )
    return {
        "customers": crm,
        "social_posts": posts,
        "tickets": tickets,
        "ticket_comments": comments,
        "ideas": ideas,
        "truth": pd.DataFrame(
            {"author_handle": author, "customer_id": np.where(is_customer, ids[who], "")}
        ),
    }


def main() -> None:
    from patronage.config import IdentityConfig
    from patronage.tasks.stages.link_conversations import resolve_identity_keys
    from patronage.tasks.transforms.linking.identity import (
        build_conversations,
        link_conversations_to_customers,
    )

    customers = int(os.environ.get("CUSTOMERS", 1_000_000))
    conversations = int(os.environ.get("CONVERSATIONS", 1_000_000))
    t = time.perf_counter()
    data = synthetic(customers, conversations)
    print(
        f"{customers:,} customers × {conversations:,} conversations generated in {time.perf_counter() - t:.1f} s"
    )
    for probabilistic in (False, True):
        t = time.perf_counter()
        keys, links, _ = resolve_identity_keys(
            data["customers"],
            data["social_posts"],
            data["tickets"],
            None,
            None,
            IdentityConfig(probabilistic=probabilistic),
        )
        keyed = time.perf_counter() - t
        t = time.perf_counter()
        stacked = build_conversations(
            data["social_posts"], data["tickets"], data["ticket_comments"], data["ideas"]
        )
        linked = link_conversations_to_customers(stacked, keys)
        joined = time.perf_counter() - t
        total = keyed + joined
        truth = (
            data["truth"].drop_duplicates("author_handle").set_index("author_handle")["customer_id"]
        )
        got = linked[linked["source"] == "social_posts"].drop_duplicates("author_key")
        got = got.assign(handle=got["author_key"].str.removeprefix("twitter:"))
        expected = got["handle"].map(truth)
        correct = (got["customer_id"] == expected).sum()
        label = "exact keys + probabilistic" if probabilistic else "exact keys only"
        print(
            f"{label:27s} keys {keyed:6.1f} s, conversations + link {joined:5.1f} s, "
            f"total {total:6.1f} s ({(customers + conversations) / total:,.0f} records/s); "
            f"{len(links):,} probabilistic links; precision "
            f"{correct / max(got['customer_id'].notna().sum(), 1):.3f}, recall "
            f"{correct / max((expected != '').sum(), 1):.3f} over {len(got):,} authors"
        )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
