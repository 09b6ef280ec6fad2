"""A seeded sample company: the raw exports a real company would hand over, plus ground truth.

Purchasing follows the BG/NBD story (Fader, Hardie & Lee 2005): each customer buys as a Poisson
process with a gamma-distributed rate and drops out after any purchase with a beta-distributed
probability; spend per order is heavy-tailed around a per-customer mean. Customers who drop out
near the cut-off date show it in posts and tickets before they go quiet. Most social authors are
not customers, and ideas recur in different words. Social profiles show a display name and
usually a location; some support calls leave only a phone number; a few outsiders share a
customer's full name (namesakes) but live elsewhere.

The raw exports go to ``out_dir``; what only the simulator knows (who is who, who leaves after the
cut-off, which ideas are the same) goes to a separate ``truth_dir`` used by tests and benchmarks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from patronage.schemas.raw_layout import RAW_LAYOUT, SAMPLE_POLICY_FILE
from patronage.simulator.text import Phrasebook

BRAND_HANDLE = "acme_support"
PLATFORMS = ("twitter", "instagram", "forum")
ACCOUNT_OWNERS = tuple(f"owner-{i:02d}" for i in range(1, 9))
# Assigned US area codes, so that generated numbers are valid and normalise to E.164.
AREA_CODES = (206, 212, 305, 312, 404, 415, 503, 512, 602, 617, 702, 713, 720, 786, 919)

# Each concept is one idea; its phrasings are how different people ask for it.
IDEA_CONCEPTS: dict[str, list[str]] = {
    "dark-mode": [
        "Add a dark mode to the app",
        "Please give us a dark mode theme in the app",
        "Dark theme for the mobile app would be great",
        "App needs a dark mode for night use",
    ],
    "gift-cards": [
        "Sell digital gift cards",
        "Please offer gift cards I can send by email",
        "Digital gift cards for birthdays",
        "Gift card option at checkout please",
    ],
    "express-shipping": [
        "Offer express next day shipping",
        "Next-day express delivery option please",
        "I would pay more for express shipping next day",
    ],
    "loyalty-points": [
        "Start a loyalty points program",
        "Reward points for repeat purchases",
        "Loyalty program with points per order",
        "Give loyal customers reward points",
    ],
    "order-tracking": [
        "Live order tracking on a map",
        "Let me track my order live",
        "Real-time order tracking in the app",
    ],
    "eco-packaging": [
        "Use recyclable packaging",
        "Plastic-free recyclable packaging please",
        "Switch to eco friendly packaging",
        "Less plastic in the packaging, more recyclable boxes",
    ],
    "subscription": [
        "Subscribe and save on regular orders",
        "A subscription for monthly refills",
        "Monthly subscription with a discount",
    ],
    "pickup-points": [
        "Pick up orders at a local store",
        "Click and collect pickup points",
        "Let me collect my order at a pickup point",
    ],
    "size-guide": [
        "Better size guide with measurements",
        "Add a detailed size guide",
        "Size guide with real measurements per product",
    ],
    "wishlist-sharing": [
        "Share my wishlist with friends",
        "Shareable wishlists for family",
        "Let me send my wishlist link to friends",
    ],
}


@dataclass(frozen=True)
class SampleSpec:
    """What to generate.

    Attributes:
        customers: Number of CRM customers.
        seed: Seed of every random draw: the same spec gives the same files.
        as_of: Cut-off date of the exports; orders after it exist only in ground truth.
        history_days: How far back signups and orders go.
        holdout_days: Days after ``as_of`` simulated for ground truth (who really leaves).
    """

    customers: int = 600
    seed: int = 7
    as_of: date = date(2026, 10, 31)
    history_days: int = 730
    holdout_days: int = 180


def _name_pools(seed: int) -> tuple[list[str], list[str], list[str]]:
    from faker import Faker

    faker = Faker("en_US")
    faker.seed_instance(seed)
    first = sorted({faker.first_name() for _ in range(600)})
    last = sorted({faker.last_name() for _ in range(900)})
    cities = sorted({faker.city() for _ in range(120)})
    return first, last, cities


def _simulate_purchases(
    rng: np.random.Generator, birth: np.ndarray, end: float, lam: np.ndarray, p_drop: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised BG/NBD draws: all customers advance one purchase per round.

    Returns the customer index and day of every purchase (the first at birth), and each
    customer's dropout day (``inf`` while still alive at ``end``).
    """
    n = len(birth)
    cust_idx = [np.arange(n)]
    days = [birth.copy()]
    current = birth.copy()
    alive = np.ones(n, dtype=bool)
    dropout = np.full(n, np.inf)
    while alive.any():
        idx = np.flatnonzero(alive)
        # Dropout happens right after a purchase; the customer is then silent for good.
        drops = rng.random(len(idx)) < p_drop[idx]
        dropped = idx[drops]
        dropout[dropped] = current[dropped] + rng.exponential(1.0 / lam[dropped])
        alive[dropped] = False
        idx = idx[~drops]
        nxt = current[idx] + rng.exponential(1.0 / lam[idx])
        beyond = nxt > end
        alive[idx[beyond]] = False
        idx, nxt = idx[~beyond], nxt[~beyond]
        current[idx] = nxt
        cust_idx.append(idx)
        days.append(nxt)
    return np.concatenate(cust_idx), np.concatenate(days), dropout


def _handle(first: str, last: str, rng: np.random.Generator) -> str:
    style = rng.integers(0, 3)
    if style == 0:
        return f"{first.lower()}_{last[0].lower()}{rng.integers(10, 99)}"
    if style == 1:
        return f"{first[0].lower()}{last.lower()}"
    return f"{last.lower()}.{first.lower()}{rng.integers(1, 9)}"


def _email_variant(email: str, rng: np.random.Generator) -> str:
    """How the same person's address shows up in another system."""
    local, domain = email.split("@")
    roll = rng.random()
    if roll < 0.15:
        return email.upper()
    if roll < 0.3:
        return f"{local}+support@{domain}"
    if roll < 0.4 and domain == "gmail.com":
        return f"{local.replace('.', '')}@{domain}"
    return email


def _phone_variant(phone: str, rng: np.random.Generator) -> str:
    """How a number is typed into a support form: with or without country code and punctuation."""
    digits = "".join(ch for ch in phone if ch.isdigit())[-10:]
    style = rng.integers(0, 4)
    if style == 0:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    if style == 1:
        return f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"
    if style == 2:
        return f"+1{digits}"
    return f"1-{digits[:3]}-{digits[3:6]}-{digits[6:]}"


def generate_sample(spec: SampleSpec) -> dict[str, pd.DataFrame]:
    """Simulate the company and return every table, raw exports and ground truth.

    Args:
        spec: What to generate.

    Returns:
        Tables keyed by name: ``customers``, ``orders``, ``social_posts``, ``tickets``,
        ``ticket_comments``, ``ideas`` (raw exports) and ``truth_customers``, ``truth_authors``,
        ``truth_ideas``, ``truth_holdout_orders``, ``truth_texts`` (ground truth; the last
        holds the intent and language each customer post or ticket was written with).
    """
    rng = np.random.default_rng(spec.seed)
    # Wording has its own stream: richer phrasing does not move any other draw.
    book = Phrasebook(np.random.default_rng([spec.seed, 17]), BRAND_HANDLE)
    truth_texts: list[dict] = []

    def said(source: str, source_id: str, intent: str) -> None:
        truth_texts.append(
            {"source": source, "source_id": source_id, "intent": intent, "language": book.language}
        )

    first_pool, last_pool, city_pool = _name_pools(spec.seed)
    n = spec.customers
    as_of = pd.Timestamp(spec.as_of)
    start = as_of - pd.Timedelta(days=spec.history_days)
    horizon_end = float(spec.history_days + spec.holdout_days)
    cutoff = float(spec.history_days)

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
            f"{f.lower()}.{ln.lower()}{i % 97}@{d}"
            for i, (f, ln, d) in enumerate(zip(firsts, lasts, domains, strict=True))
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
            _handle(f, ln, rng) + str(i) if h else ""
            for i, (f, ln, h) in enumerate(zip(firsts, lasts, has_handle, strict=True))
        ]
    )
    crm_knows_handle = has_handle & (rng.random(n) < 0.5)

    # Profile details draw from their own stream so that purchases and posts stay as they were.
    profile_rng = np.random.default_rng([spec.seed, 1])

    # --- purchasing: heterogeneous rates, dropout, heavy-tailed spend ----------------------
    lam = rng.gamma(shape=0.9, scale=1 / 22.0, size=n)  # purchases per day while alive
    p_drop = rng.beta(0.7, 4.5, size=n)
    spend_mean = rng.lognormal(mean=3.7, sigma=0.75, size=n)
    cust_idx, day, dropout = _simulate_purchases(rng, birth, horizon_end, lam, p_drop)
    amount = np.round(spend_mean[cust_idx] * rng.gamma(6.0, 1 / 6.0, len(cust_idx)), 2)
    amount = np.maximum(amount, 1.0)
    order_ts = start + pd.to_timedelta(np.round(day * 86400), unit="s")
    all_orders = (
        pd.DataFrame(
            {
                "customer_id": ids[cust_idx],
                "ordered_at": order_ts,
                "amount": amount,
                "day": day,
            }
        )
        .sort_values(["ordered_at", "customer_id"], kind="stable")
        .reset_index(drop=True)
    )
    all_orders["order_id"] = [f"O{i:08d}" for i in range(1, len(all_orders) + 1)]
    before = all_orders["day"] <= cutoff
    orders = all_orders.loc[before, ["order_id", "customer_id", "ordered_at", "amount"]]
    holdout = all_orders.loc[~before, ["order_id", "customer_id", "ordered_at", "amount"]]

    # --- ground truth per customer ---------------------------------------------------------
    last_day = pd.Series(day[day <= cutoff]).groupby(cust_idx[day <= cutoff]).max()
    last_before = np.full(n, np.nan)
    last_before[last_day.index.to_numpy()] = last_day.to_numpy()
    n_before = np.bincount(cust_idx[day <= cutoff], minlength=n)
    n_holdout = np.bincount(cust_idx[day > cutoff], minlength=n)
    rev_holdout = np.bincount(cust_idx[day > cutoff], weights=amount[day > cutoff], minlength=n)
    true_value = lam * spend_mean  # expected spend per day while alive
    value_rank = pd.Series(true_value).rank(ascending=False, method="first").to_numpy()
    valuable = value_rank <= max(1, int(round(0.30 * n)))
    # Leaving: a repeat customer active in the year before the cut-off whose dropout falls
    # before, or within 90 days after, the cut-off: gone or going, not yet written off.
    recently_active = last_before >= cutoff - 365
    leaving = recently_active & (n_before >= 2) & (dropout < cutoff + 90)
    # Drifters: drop out shortly before or after the cut-off; they are the ones who complain.
    drifter = (dropout > cutoff - 150) & (dropout < cutoff + 60) & (n_before >= 2)

    truth_customers = pd.DataFrame(
        {
            "customer_id": ids,
            "purchase_rate_per_day": lam,
            "dropout_probability": p_drop,
            "mean_spend": spend_mean,
            "dropout_day": np.where(np.isinf(dropout), np.nan, dropout),
            "orders_before_cutoff": n_before,
            "orders_in_holdout": n_holdout,
            "revenue_in_holdout": np.round(rev_holdout, 2),
            "valuable": valuable,
            "leaving": leaving,
            "drifter": drifter,
        }
    )

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

    def ts(day_offset: float) -> pd.Timestamp:
        return (start + pd.Timedelta(seconds=int(day_offset * 86400))).floor("s")

    # --- conversations ---------------------------------------------------------------------
    posts: list[dict] = []
    tickets: list[dict] = []
    comments: list[dict] = []
    author_truth: list[dict] = []

    def add_post(
        handle: str,
        display: str,
        text: str,
        day_offset: float,
        followers: int,
        reply_to: str = "",
        platform: str = "twitter",
        location: str = "",
    ) -> str:
        post_id = f"P{len(posts) + 1:07d}"
        posts.append(
            {
                "post_id": post_id,
                "platform": platform,
                "author_handle": handle,
                "author_display_name": display,
                "author_location": location,
                "text": text,
                "posted_at": ts(day_offset),
                "reply_to_id": reply_to,
                "likes": int(rng.poisson(3 if not reply_to else 1)),
                "shares": int(rng.poisson(0.6)),
                "author_followers": followers,
            }
        )
        return post_id

    def add_ticket(
        cust: int,
        subject: str,
        body: str,
        day_offset: float,
        status: str,
        priority: str,
        via_handle: str = "",
    ) -> str:
        ticket_id = f"T{len(tickets) + 1:06d}"
        created = ts(day_offset)
        answered = status in ("solved", "closed") or rng.random() < 0.4
        updated = created + pd.Timedelta(hours=int(rng.integers(2, 96))) if answered else created
        # One call in six comes in by phone: no email on the ticket, the number as typed.
        by_phone = profile_rng.random() < 0.16
        # Drawn for calls too, so that every later draw of the main stream stays as it was.
        typed_email = _email_variant(emails[cust], rng)
        tickets.append(
            {
                "ticket_id": ticket_id,
                "requester_email": "" if by_phone else typed_email,
                "requester_phone": _phone_variant(phones[cust], profile_rng) if by_phone else "",
                "requester_name": customers.at[cust, "name"],
                "via_handle": via_handle,
                "subject": subject,
                "body": body,
                "status": status,
                "priority": priority,
                "created_at": created,
                "updated_at": min(updated, as_of),
                "satisfaction": (
                    rng.choice(["good", "bad"]) if status in ("solved", "closed") else ""
                ),
            }
        )
        comments.append(
            {
                "comment_id": f"{ticket_id}-1",
                "ticket_id": ticket_id,
                "author_type": "requester",
                "body": body,
                "created_at": created,
            }
        )
        if answered:
            comments.append(
                {
                    "comment_id": f"{ticket_id}-2",
                    "ticket_id": ticket_id,
                    "author_type": "agent",
                    "body": "Thanks for reaching out, we are on it.",
                    "created_at": min(updated, as_of),
                }
            )
        return ticket_id

    followers_of = rng.lognormal(4.0, 1.6, n).astype(int)
    for i in range(n):
        if n_before[i] == 0:
            continue
        display = customers.at[i, "name"] if rng.random() < 0.95 else firsts[i]
        location = str(cities[i]) if profile_rng.random() < 0.92 else ""
        if has_handle[i]:
            author_truth.append(
                {"platform": "twitter", "author_handle": handles[i], "customer_id": ids[i]}
            )
        if drifter[i]:
            when = min(max(dropout[i] - rng.uniform(0, 40), birth[i]), cutoff - 0.5)
            if has_handle[i] and rng.random() < 0.6:
                rng.integers(5)  # the draw that once picked a template, kept for the stream
                text, intent = book.churn_post()
                pid = add_post(
                    handles[i], display, text, when, int(followers_of[i]), location=location
                )
                said("social_posts", pid, intent)
                if rng.random() < 0.5:
                    add_post(
                        BRAND_HANDLE,
                        "Acme Support",
                        book.brand_reply("sorry"),
                        min(when + 0.5, cutoff),
                        25000,
                        reply_to=pid,
                    )
                else:  # asks again: social pressure
                    add_post(
                        handles[i],
                        display,
                        book.nudge(),
                        min(when + 2, cutoff),
                        int(followers_of[i]),
                        reply_to=pid,
                        location=location,
                    )
            if rng.random() < 0.55:
                rng.integers(4)  # the draw that once picked a template, kept for the stream
                subject, body, intent = book.churn_ticket()
                status = rng.choice(["open", "pending", "new"])
                ticket_id = add_ticket(
                    i,
                    subject,
                    body,
                    when,
                    str(status),
                    str(rng.choice(["high", "urgent", "normal"])),
                    via_handle=handles[i] if has_handle[i] and rng.random() < 0.3 else "",
                )
                said("tickets", ticket_id, intent)
        elif has_handle[i] and rng.random() < 0.35:
            happy = rng.random() < 0.6
            rng.integers(4)  # the draw that once picked a template, kept for the stream
            text, intent = book.happy_post() if happy else book.question_post()
            pid = add_post(
                handles[i],
                display,
                text,
                rng.uniform(birth[i], cutoff),
                int(followers_of[i]),
                location=location,
            )
            said("social_posts", pid, intent)
        if not drifter[i] and rng.random() < 0.12:
            rng.integers(4)  # the draw that once picked a template, kept for the stream
            subject, body, intent = book.routine_ticket()
            created = rng.uniform(birth[i], cutoff)
            status = "open" if created > cutoff - 5 else str(rng.choice(["solved", "closed"]))
            said("tickets", add_ticket(i, subject, body, created, status, "normal"), intent)

    # Non-customers: prospects, fans and critics, at least as many authors as customers.
    n_customer_authors = len(author_truth)
    n_outsiders = max(12, int(1.4 * n_customer_authors))
    for j in range(n_outsiders):
        f, ln = rng.choice(first_pool), rng.choice(last_pool)
        handle = f"{_handle(f, ln, rng)}x{j}"
        followers = int(rng.lognormal(5.0, 2.0))
        roll = rng.random()
        rng.integers(4 if roll < 0.8 else 2)  # once picked a template, kept for the stream
        write = (
            book.happy_post
            if roll < 0.4
            else book.question_post
            if roll < 0.8
            else book.critic_post
        )
        text, intent = write()
        outsider_location = str(profile_rng.choice(city_pool)) if profile_rng.random() < 0.7 else ""
        said_id = add_post(
            handle,
            f"{f} {ln}",
            text,
            rng.uniform(0, cutoff),
            followers,
            platform=str(rng.choice(PLATFORMS, p=[0.6, 0.25, 0.15])),
            location=outsider_location,
        )
        said("social_posts", said_id, intent)
        author_truth.append(
            {"platform": posts[-1]["platform"], "author_handle": handle, "customer_id": ""}
        )
        if rng.random() < 0.25:
            other = posts[int(rng.integers(0, len(posts)))]
            add_post(
                handle,
                f"{f} {ln}",
                book.agreement(),
                float((other["posted_at"] - start).total_seconds() / 86400) + 0.2,
                followers,
                reply_to=other["post_id"],
                platform=other["platform"],
                location=outsider_location,
            )

    # --- ideas: board entries, plus suggestions voiced in posts --------------------------------
    ideas: list[dict] = []
    truth_ideas: list[dict] = []
    concepts = list(IDEA_CONCEPTS)
    popularity = rng.dirichlet(np.full(len(concepts), 0.8))
    # A board's size does not grow with the customer base forever.
    n_ideas = min(max(10, n // 8), 1500)
    customer_authors = rng.choice(np.flatnonzero(n_before > 0), n_ideas)
    for k in range(n_ideas):
        concept = concepts[rng.choice(len(concepts), p=popularity)]
        phrasings = IDEA_CONCEPTS[concept]
        title = phrasings[rng.integers(len(phrasings))]
        idea_id = f"I{k + 1:05d}"
        by_customer = rng.random() < 0.55
        cust = int(customer_authors[k])
        ideas.append(
            {
                "idea_id": idea_id,
                "author_email": _email_variant(emails[cust], rng) if by_customer else "",
                "author_handle": "" if by_customer else f"idea_fan{k}",
                "title": title,
                "body": book.idea_body(title),
                "votes": int(rng.negative_binomial(1, 0.08)),
                "created_at": ts(rng.uniform(cutoff - 365, cutoff)),
            }
        )
        truth_ideas.append({"source": "ideas", "source_id": idea_id, "concept": concept})
    for k in range(min(max(3, n // 40), 500)):
        concept = concepts[rng.choice(len(concepts), p=popularity)]
        phrase = IDEA_CONCEPTS[concept][rng.integers(len(IDEA_CONCEPTS[concept]))]
        f, ln = rng.choice(first_pool), rng.choice(last_pool)
        handle = f"{_handle(f, ln, rng)}s{k}"
        pid = add_post(
            handle,
            f"{f} {ln}",
            book.idea_post(phrase),
            rng.uniform(cutoff - 200, cutoff),
            int(rng.lognormal(5, 1.5)),
        )
        author_truth.append({"platform": "twitter", "author_handle": handle, "customer_id": ""})
        truth_ideas.append({"source": "social_posts", "source_id": pid, "concept": concept})

    # Namesakes: outsiders with a customer author's full name, living in another city. A
    # linker that trusts names alone links them; ground truth says they are not customers.
    posted = {p["author_handle"] for p in posts}
    customer_authors_with_handle = [
        a["customer_id"] for a in author_truth if a["customer_id"] and a["author_handle"] in posted
    ]
    n_namesakes = min(max(2, len(customer_authors_with_handle) // 25), 200)
    namesake_of = (
        profile_rng.choice(customer_authors_with_handle, n_namesakes, replace=False)
        if customer_authors_with_handle
        else []
    )
    for k, cid in enumerate(namesake_of):
        i = int(cid[1:]) - 1
        elsewhere = str(profile_rng.choice([c for c in city_pool if c != cities[i]]))
        handle = f"{_handle(firsts[i], lasts[i], profile_rng)}n{k}"
        add_post(
            handle,
            customers.at[i, "name"],
            book.question_post()[0],
            float(profile_rng.uniform(0, cutoff)),
            int(profile_rng.lognormal(5, 1.5)),
            location=elsewhere,
        )
        author_truth.append(
            {"platform": "twitter", "author_handle": handle, "customer_id": "", "namesake_of": cid}
        )

    social_posts = pd.DataFrame(posts).sort_values(["posted_at", "post_id"], kind="stable")
    tickets_df = pd.DataFrame(
        tickets,
        columns=[
            "ticket_id",
            "requester_email",
            "requester_phone",
            "requester_name",
            "via_handle",
            "subject",
            "body",
            "status",
            "priority",
            "created_at",
            "updated_at",
            "satisfaction",
        ],
    )
    comments_df = pd.DataFrame(
        comments, columns=["comment_id", "ticket_id", "author_type", "body", "created_at"]
    )
    truth_authors = pd.DataFrame(author_truth).drop_duplicates(["platform", "author_handle"])
    if "namesake_of" not in truth_authors:
        truth_authors["namesake_of"] = ""
    truth_authors["namesake_of"] = truth_authors["namesake_of"].fillna("")
    return {
        "customers": customers,
        "orders": orders.reset_index(drop=True),
        "social_posts": social_posts.reset_index(drop=True),
        "tickets": tickets_df,
        "ticket_comments": comments_df,
        "ideas": pd.DataFrame(ideas),
        "truth_customers": truth_customers,
        "truth_authors": truth_authors.reset_index(drop=True),
        "truth_ideas": pd.DataFrame(truth_ideas),
        "truth_holdout_orders": holdout.reset_index(drop=True),
        "truth_texts": pd.DataFrame(
            truth_texts, columns=["source", "source_id", "intent", "language"]
        ),
    }


def _write(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        out = df.copy()
        for col in out.columns:
            if pd.api.types.is_datetime64_any_dtype(out[col]):
                out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        out.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        df.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")


def write_sample(spec: SampleSpec, out_dir: Path, truth_dir: Path | None) -> dict[str, int]:
    """Generate the company and write raw exports (and ground truth when ``truth_dir`` is set).

    Returns:
        Row counts per written table.
    """
    tables = generate_sample(spec)
    counts: dict[str, int] = {}
    for name, rel in RAW_LAYOUT.items():
        _write(tables[name], out_dir / rel)
        counts[name] = len(tables[name])
    manifest = {
        "generator": "patronage.simulator",
        "seed": spec.seed,
        "customers": spec.customers,
        "as_of": spec.as_of.isoformat(),
        "history_days": spec.history_days,
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    # The simulated company's own policy: its brand account, the rest Patronage's defaults.
    (out_dir / SAMPLE_POLICY_FILE).write_text(
        "# The simulated company's policy (see deployments/policy.example.yaml for every field).\n"
        + yaml.safe_dump({"brand_handles": [BRAND_HANDLE]}, sort_keys=False)
    )
    if truth_dir is not None:
        truth_dir.mkdir(parents=True, exist_ok=True)
        for name, df in tables.items():
            if name.startswith("truth_"):
                _write(df, truth_dir / f"{name.removeprefix('truth_')}.csv")
                counts[name] = len(df)
    return counts
