"""Linking throughput: deterministic identity keys and conversation linking at scale, plus
probabilistic linkage on a sample. `make bench-linking` (CUSTOMERS=…, CONVERSATIONS=…).

Prints records per second and peak memory; asserts nothing.
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np
import pandas as pd


def synthetic(customers: int, conversations: int, seed: int = 9) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.char.add("C", np.arange(customers).astype(str))
    handles = np.char.add("user", np.arange(customers).astype(str))
    crm = pd.DataFrame({
        "customer_id": ids,
        "email": np.char.add(np.char.add("first.last", np.arange(customers).astype(str)), "@gmail.com"),
        "social_handles": np.where(rng.random(customers) < 0.5, np.char.add("twitter:", handles), ""),
    })
    # Half the speakers are customers (by handle), half are not.
    is_customer = rng.random(conversations) < 0.5
    who = rng.integers(0, customers, conversations)
    author = np.where(is_customer, handles[who], np.char.add("fan", rng.integers(0, conversations, conversations).astype(str)))
    at = pd.Timestamp("2026-10-01")
    posts = pd.DataFrame({
        "post_id": np.char.add("P", np.arange(conversations).astype(str)), "platform": "twitter",
        "author_handle": author, "author_display_name": "n/a", "text": "@acme love it",
        "posted_at": at, "reply_to_id": None, "likes": 0, "shares": 0, "author_followers": 10,
    })
    tickets = pd.DataFrame({"ticket_id": ["T1"], "requester_email": ["first.last1@gmail.com"],
                            "via_handle": ["user1"], "subject": ["s"], "body": ["b"], "created_at": [at]})
    comments = pd.DataFrame(columns=["comment_id", "ticket_id", "author_type", "body", "created_at"])
    ideas = pd.DataFrame(columns=["idea_id", "author_email", "author_handle", "title", "votes", "created_at"])
    return {"customers": crm, "social_posts": posts, "tickets": tickets, "ticket_comments": comments,
            "ideas": ideas}


def main() -> None:
    from tasks.transforms.identity import (
        build_conversations,
        customer_identity_keys,
        link_conversations_to_customers,
    )

    customers = int(os.environ.get("CUSTOMERS", 1_000_000))
    conversations = int(os.environ.get("CONVERSATIONS", 1_000_000))
    t = time.perf_counter()
    data = synthetic(customers, conversations)
    print(f"{customers:,} customers × {conversations:,} conversations generated in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    keys = customer_identity_keys(data["customers"], data["tickets"])
    keyed = time.perf_counter() - t
    t = time.perf_counter()
    stacked = build_conversations(data["social_posts"], data["tickets"], data["ticket_comments"], data["ideas"])
    built = time.perf_counter() - t
    t = time.perf_counter()
    linked = link_conversations_to_customers(stacked, keys)
    joined = time.perf_counter() - t
    total = keyed + built + joined
    print(f"identity keys        {keyed:7.1f} s  ({customers / keyed:,.0f} customers/s)")
    print(f"conversations table  {built:7.1f} s")
    print(f"deterministic link   {joined:7.1f} s  ({conversations / joined:,.0f} conversations/s)")
    print(f"linking total        {total:7.1f} s  ({(customers + conversations) / total:,.0f} records/s); "
          f"{linked['customer_id'].notna().mean():.1%} of conversations linked")
    try:
        from tasks.transforms.record_linkage import FieldComparison, link_records
    except ImportError:
        return
    sample = int(os.environ.get("PROBABILISTIC_SAMPLE", 100_000))
    # Realistic cardinalities: blocks on last name hold a handful of records, not thousands.
    i = np.arange(sample)
    people = pd.DataFrame({"unique_id": i.astype(str),
                           "first": np.char.add("f", (i % 3000).astype(str)),
                           "last": np.char.add("l", ((i * 7919) % max(sample // 2, 1)).astype(str)),
                           "city": np.char.add("c", (i % 500).astype(str))})
    t = time.perf_counter()
    links = link_records(people, people.assign(unique_id=lambda f: "r" + f["unique_id"]),
                         [FieldComparison("first", "name"), FieldComparison("last", "name"),
                          FieldComparison("city", "exact")], [["last"], ["first", "city"]])
    took = time.perf_counter() - t
    print(f"probabilistic link   {took:7.1f} s  ({2 * sample / took:,.0f} records/s on {sample:,} × {sample:,}; "
          f"{len(links):,} links)")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
