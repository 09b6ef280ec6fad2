"""Ideas: board entries, and suggestions voiced in posts, in different words."""

from __future__ import annotations

import numpy as np

from patronage.simulator.draft import (
    IDEA_CONCEPTS,
    Draft,
    cumulative,
    draw_one,
    email_variant,
    handle_for,
    uniform,
)


def draw_ideas(d: Draft) -> None:
    """Idea board entries (``d.ideas``) and idea posts, with the concept each expresses."""
    rng, n, n_before, emails, book, ts, cutoff, first_pool, last_pool, add_post, author_truth = (
        d.rng,
        d.n,
        d.n_before,
        d.emails,
        d.book,
        d.ts,
        d.cutoff,
        d.first_pool,
        d.last_pool,
        d.add_post,
        d.author_truth,
    )

    # --- ideas: board entries, plus suggestions voiced in posts --------------------------------
    ideas: list[dict] = []
    truth_ideas: list[dict] = []
    concepts = list(IDEA_CONCEPTS)
    popularity = rng.dirichlet(np.full(len(concepts), 0.8))
    popularity_cdf = cumulative(popularity)
    # A board's size does not grow with the customer base forever.
    n_ideas = min(max(10, n // 8), 1500)
    customer_authors = rng.choice(np.flatnonzero(n_before > 0), n_ideas)
    for k in range(n_ideas):
        concept = concepts[draw_one(rng, range(len(concepts)), popularity_cdf)]
        phrasings = IDEA_CONCEPTS[concept]
        title = phrasings[rng.integers(len(phrasings))]
        idea_id = f"I{k + 1:05d}"
        by_customer = rng.random() < 0.55
        cust = int(customer_authors[k])
        ideas.append(
            {
                "idea_id": idea_id,
                "author_email": email_variant(emails[cust], rng) if by_customer else "",
                "author_handle": "" if by_customer else f"idea_fan{k}",
                "title": title,
                "body": book.idea_body(title),
                "votes": int(rng.negative_binomial(1, 0.08)),
                "created_at": ts(uniform(rng, cutoff - 365, cutoff)),
            }
        )
        truth_ideas.append({"source": "ideas", "source_id": idea_id, "concept": concept})
    for k in range(min(max(3, n // 40), 500)):
        concept = concepts[draw_one(rng, range(len(concepts)), popularity_cdf)]
        phrase = IDEA_CONCEPTS[concept][rng.integers(len(IDEA_CONCEPTS[concept]))]
        f, ln = draw_one(rng, first_pool), draw_one(rng, last_pool)
        handle = f"{handle_for(f, ln, rng)}s{k}"
        pid = add_post(
            handle,
            f"{f} {ln}",
            book.idea_post(phrase),
            uniform(rng, cutoff - 200, cutoff),
            int(rng.lognormal(5, 1.5)),
        )
        author_truth.append({"platform": "twitter", "author_handle": handle, "customer_id": ""})
        truth_ideas.append({"source": "social_posts", "source_id": pid, "concept": concept})

    d.ideas = ideas
    d.truth_ideas = truth_ideas
