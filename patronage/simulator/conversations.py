"""Social posts, support tickets and their comments: drifters complain, most authors are
not customers, some outsiders share a customer's name."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

import numpy as np

from patronage.simulator.draft import (
    BRAND_HANDLE,
    PLATFORMS,
    Draft,
    cumulative,
    draw_one,
    email_variant,
    handle_for,
    handles_for,
    phone_variant,
    uniform,
)


class Post(NamedTuple):
    """One social post as drawn; ``posted_at`` in whole seconds after the history's start."""

    post_id: str
    platform: str
    author_handle: str
    author_display_name: str
    author_location: str
    text: str
    posted_at: int
    reply_to_id: str
    likes: int
    shares: int
    author_followers: int


def start_conversations(d: Draft) -> None:
    """Empty post, ticket and comment lists and the functions that add to them."""
    ts, rng, emails, profile_rng, phones = d.ts, d.rng, d.emails, d.profile_rng, d.phones
    as_of = d.as_of.to_pydatetime()
    names = d.names

    # --- conversations ---------------------------------------------------------------------
    # A tuple per post, times in seconds: a million posts become a frame without a million
    # dicts and datetimes to take apart.
    posts: list[Post] = []
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
        reach: tuple[int, int] | None = None,
    ) -> str:
        """Append a post; ``reach`` is its (likes, shares) where the caller drew them."""
        post_id = f"P{len(posts) + 1:07d}"
        likes, shares = reach or (int(rng.poisson(3 if not reply_to else 1)), int(rng.poisson(0.6)))
        posts.append(
            Post(
                post_id,
                platform,
                handle,
                display,
                location,
                text,
                int(day_offset * 86400),  # what ``ts`` would add to the start
                reply_to,
                likes,
                shares,
                followers,
            )
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
        updated = created + timedelta(hours=int(rng.integers(2, 96))) if answered else created
        # One call in six comes in by phone: no email on the ticket, the number as typed.
        by_phone = profile_rng.random() < 0.16
        # Drawn for calls too, so that every later draw of the main stream stays as it was.
        typed_email = email_variant(emails[cust], rng)
        tickets.append(
            {
                "ticket_id": ticket_id,
                "requester_email": "" if by_phone else typed_email,
                "requester_phone": phone_variant(phones[cust], profile_rng) if by_phone else "",
                "requester_name": names[cust],
                "via_handle": via_handle,
                "subject": subject,
                "body": body,
                "status": status,
                "priority": priority,
                "created_at": created,
                "updated_at": min(updated, as_of),
                "satisfaction": (
                    draw_one(rng, ("good", "bad")) if status in ("solved", "closed") else ""
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

    d.posts = posts
    d.tickets = tickets
    d.comments = comments
    d.author_truth = author_truth
    d.add_post = add_post
    d.add_ticket = add_ticket


def draw_customer_conversations(d: Draft) -> None:
    """Customers' posts and tickets: drifters complain before they go quiet."""
    (
        rng,
        n,
        n_before,
        names,
        firsts,
        profile_rng,
        cities,
        has_handle,
        author_truth,
        handles,
        ids,
        drifter,
        dropout,
        birth,
        cutoff,
        book,
        add_post,
        said,
        add_ticket,
    ) = (
        d.rng,
        d.n,
        d.n_before,
        d.names,
        d.firsts,
        d.profile_rng,
        d.cities,
        d.has_handle,
        d.author_truth,
        d.handles,
        d.ids,
        d.drifter,
        d.dropout,
        d.birth,
        d.cutoff,
        d.book,
        d.add_post,
        d.said,
        d.add_ticket,
    )

    followers_of = rng.lognormal(4.0, 1.6, n).astype(int)
    for i in range(n):
        if n_before[i] == 0:
            continue
        display = names[i] if rng.random() < 0.95 else firsts[i]
        location = str(cities[i]) if profile_rng.random() < 0.92 else ""
        if has_handle[i]:
            author_truth.append(
                {"platform": "twitter", "author_handle": handles[i], "customer_id": ids[i]}
            )
        if drifter[i]:
            when = min(max(dropout[i] - uniform(rng, 0, 40), birth[i]), cutoff - 0.5)
            if has_handle[i] and rng.random() < 0.6:
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
                subject, body, intent = book.churn_ticket()
                status = draw_one(rng, ("open", "pending", "new"))
                ticket_id = add_ticket(
                    i,
                    subject,
                    body,
                    when,
                    str(status),
                    draw_one(rng, ("high", "urgent", "normal")),
                    via_handle=handles[i] if has_handle[i] and rng.random() < 0.3 else "",
                )
                said("tickets", ticket_id, intent)
        elif has_handle[i] and rng.random() < 0.35:
            happy = rng.random() < 0.6
            text, intent = book.happy_post() if happy else book.question_post()
            pid = add_post(
                handles[i],
                display,
                text,
                uniform(rng, birth[i], cutoff),
                int(followers_of[i]),
                location=location,
            )
            said("social_posts", pid, intent)
        if not drifter[i] and rng.random() < 0.12:
            subject, body, intent = book.routine_ticket()
            created = uniform(rng, birth[i], cutoff)
            status = "open" if created > cutoff - 5 else draw_one(rng, ("solved", "closed"))
            said("tickets", add_ticket(i, subject, body, created, status, "normal"), intent)


def draw_outsider_posts(d: Draft) -> None:
    """Prospects, fans and critics: at least as many authors as customers.

    Their numbers come from a stream of their own, drawn as arrays: one outsider at a time
    from the main stream took a third of a million customers' ``patronage sample``. Only the
    wording is asked for one post at a time, in the order of the posts.
    """
    author_truth, book, said, posts, add_post = (
        d.author_truth,
        d.book,
        d.said,
        d.posts,
        d.add_post,
    )
    rng = np.random.default_rng([d.spec.seed, 29])

    # Non-customers: prospects, fans and critics, at least as many authors as customers.
    n = max(12, int(1.4 * len(author_truth)))
    firsts = d.first_pool[rng.integers(0, len(d.first_pool), n)]
    lasts = d.last_pool[rng.integers(0, len(d.last_pool), n)]
    handles = handles_for(firsts, lasts, rng)
    followers = rng.lognormal(5.0, 2.0, n).astype(np.int64)
    roll = rng.random(n)  # < 0.4 a fan, < 0.8 a prospect's question, else a critic
    located = rng.random(n) < 0.7
    locations = np.where(located, d.city_pool[rng.integers(0, len(d.city_pool), n)], "")
    days = rng.uniform(0, d.cutoff, n)
    platforms = np.array(PLATFORMS)[
        cumulative([0.6, 0.25, 0.15]).searchsorted(rng.random(n), side="right")
    ]
    # A quarter agree with an earlier post: any post drawn so far, their own included.
    agrees = rng.random(n) < 0.25
    picks = rng.random(n)
    drawn_before = len(posts) + np.arange(1, n + 1) + np.cumsum(agrees) - agrees
    replied = (picks * drawn_before).astype(np.int64).tolist()
    likes, shares = rng.poisson(3, n).tolist(), rng.poisson(0.6, n).tolist()
    reply_likes, reply_shares = rng.poisson(1, n).tolist(), rng.poisson(0.6, n).tolist()
    # Lists, not arrays: one numpy scalar per cell cost more than the rest of the loop.
    firsts, lasts, followers, roll = (
        firsts.tolist(),
        lasts.tolist(),
        followers.tolist(),
        roll.tolist(),
    )
    locations, days, platforms = locations.tolist(), days.tolist(), platforms.tolist()
    for j, agreed in enumerate(agrees.tolist()):
        handle, display = f"{handles[j]}x{j}", f"{firsts[j]} {lasts[j]}"
        write = (
            book.happy_post
            if roll[j] < 0.4
            else book.question_post
            if roll[j] < 0.8
            else book.critic_post
        )
        text, intent = write()
        location, platform = locations[j], platforms[j]
        said_id = add_post(
            handle,
            display,
            text,
            days[j],
            followers[j],
            platform=platform,
            location=location,
            reach=(likes[j], shares[j]),
        )
        said("social_posts", said_id, intent)
        author_truth.append({"platform": platform, "author_handle": handle, "customer_id": ""})
        if agreed:
            other = posts[replied[j]]
            add_post(
                handle,
                display,
                book.agreement(),
                other.posted_at / 86400 + 0.2,
                followers[j],
                reply_to=other.post_id,
                platform=other.platform,
                location=location,
                reach=(reply_likes[j], reply_shares[j]),
            )
            # A reply goes where the post is: the same outsider, perhaps on another platform.
            author_truth.append(
                {"platform": other.platform, "author_handle": handle, "customer_id": ""}
            )


def draw_namesakes(d: Draft) -> None:
    """Outsiders with a customer author's full name, living in another city."""
    (
        posts,
        author_truth,
        profile_rng,
        city_pool,
        cities,
        firsts,
        lasts,
        add_post,
        names,
        book,
        cutoff,
    ) = (
        d.posts,
        d.author_truth,
        d.profile_rng,
        d.city_pool,
        d.cities,
        d.firsts,
        d.lasts,
        d.add_post,
        d.names,
        d.book,
        d.cutoff,
    )

    # Namesakes: outsiders with a customer author's full name, living in another city. A
    # linker that trusts names alone links them; ground truth says they are not customers.
    posted = {p.author_handle for p in posts}
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
        elsewhere = str(draw_one(profile_rng, [c for c in city_pool if c != cities[i]]))
        handle = f"{handle_for(firsts[i], lasts[i], profile_rng)}n{k}"
        add_post(
            handle,
            names[i],
            book.question_post()[0],
            float(uniform(profile_rng, 0, cutoff)),
            int(profile_rng.lognormal(5, 1.5)),
            location=elsewhere,
        )
        author_truth.append(
            {"platform": "twitter", "author_handle": handle, "customer_id": "", "namesake_of": cid}
        )
