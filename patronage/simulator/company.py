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

import gc
import json
import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from patronage.schemas.raw_layout import RAW_LAYOUT, SAMPLE_POLICY_FILE
from patronage.simulator.conversations import (
    Post,
    draw_customer_conversations,
    draw_namesakes,
    draw_outsider_posts,
    start_conversations,
)
from patronage.simulator.customers import draw_customers
from patronage.simulator.draft import BRAND_HANDLE, Draft, SampleSpec, name_pools
from patronage.simulator.ideas import draw_ideas
from patronage.simulator.orders import draw_orders
from patronage.simulator.text import Phrasebook
from patronage.simulator.wording import DeferredWording, fork_context, wording


def generate_sample(
    spec: SampleSpec,
    ready: Callable[[dict[str, pd.DataFrame]], None] | None = None,
    wording_in_child: bool = True,
) -> dict[str, pd.DataFrame]:
    """Simulate the company and return every table, raw exports and ground truth.

    Args:
        spec: What to generate.
        ready: Called with the tables that are final as soon as they are (customers and
            orders, before any conversation is drawn), so that they can be written meanwhile.
        wording_in_child: Compose the texts in a child process while the rest is drawn
            (``DeferredWording``; the same texts).

    Returns:
        Tables keyed by name: ``customers``, ``orders``, ``social_posts``, ``tickets``,
        ``ticket_comments``, ``ideas`` (raw exports) and ``truth_customers``, ``truth_authors``,
        ``truth_ideas``, ``truth_holdout_orders``, ``truth_texts`` (ground truth; the last
        holds the intent and language each customer post or ticket was written with).
    """
    rng = np.random.default_rng(spec.seed)
    # Wording has its own stream: richer phrasing does not move any other draw.
    book = wording(
        Phrasebook(np.random.default_rng([spec.seed, 17]), BRAND_HANDLE), wording_in_child
    )
    try:
        with _cycle_collection_paused():
            tables = _draw_company(spec, rng, book, ready)
    finally:
        if isinstance(book, DeferredWording):
            book.close()
    return tables


@contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the company is drawn: millions of posts,
    tickets and truth rows are made one object at a time, none of them in a cycle, and the
    collector's passes over them took a sixth of a million customers' time (58.8 → 48.7 s).
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _draw_company(
    spec: SampleSpec,
    rng: np.random.Generator,
    book: Phrasebook | DeferredWording,
    ready: Callable[[dict[str, pd.DataFrame]], None] | None,
) -> dict[str, pd.DataFrame]:
    truth_texts: list[dict] = []

    def said(source: str, source_id: str, intent: str) -> None:
        truth_texts.append(
            {"source": source, "source_id": source_id, "intent": intent, "language": book.language}
        )

    # Arrays, not lists: ``rng.choice`` would turn a list into an array on every draw.
    first_pool, last_pool, city_pool = (np.array(pool) for pool in name_pools(spec.seed))
    n = spec.customers
    as_of = pd.Timestamp(spec.as_of)
    start = as_of - pd.Timedelta(days=spec.history_days)
    horizon_end = float(spec.history_days + spec.holdout_days)
    cutoff = float(spec.history_days)

    # Plain datetimes: a pandas Timestamp per post and ticket made up a fifth of the run.
    start_at = start.to_pydatetime()

    def ts(day_offset: float) -> datetime:
        return start_at + timedelta(seconds=int(day_offset * 86400))

    d = Draft(
        spec=spec,
        rng=rng,
        book=book,
        truth_texts=truth_texts,
        said=said,
        first_pool=first_pool,
        last_pool=last_pool,
        city_pool=city_pool,
        n=n,
        as_of=as_of,
        start=start,
        horizon_end=horizon_end,
        cutoff=cutoff,
        ts=ts,
    )
    # Each dataset in the order its draws were always made: the same seed, the same files.
    draw_customers(d)
    draw_orders(d)
    purchasing = {
        "customers": d.customers,
        "orders": d.orders.reset_index(drop=True),
        "truth_customers": d.truth_customers,
        "truth_holdout_orders": d.holdout.reset_index(drop=True),
    }
    if ready is not None:
        ready(purchasing)
    start_conversations(d)
    draw_customer_conversations(d)
    draw_outsider_posts(d)
    draw_ideas(d)
    draw_namesakes(d)
    posts, tickets, comments, author_truth = d.posts, d.tickets, d.comments, d.author_truth
    post_columns = {
        name: list(values)
        for name, values in zip(Post._fields, zip(*posts, strict=True), strict=True)
    }
    seconds = np.asarray(post_columns["posted_at"], dtype=np.int64)
    post_columns["posted_at"] = np.datetime64(d.start.to_pydatetime(), "us") + seconds.astype(
        "timedelta64[s]"
    )
    if isinstance(book, DeferredWording):  # the texts, where placeholders stood
        post_columns["text"] = book.resolve_all(post_columns["text"])
        for rows, fields in (
            (tickets, ("subject", "body")),
            (comments, ("body",)),
            (d.ideas, ("body",)),
            (truth_texts, ("intent", "language")),
        ):
            for row in rows:
                for name in fields:
                    row[name] = book.resolve(row[name])
    # Through Arrow: pandas took 5 s to turn a million posts' text columns into its own. In
    # time order; posts of the same second in the order drawn, which is their ids' order.
    social_posts = pa.table(post_columns).to_pandas()
    social_posts = social_posts.iloc[np.argsort(seconds, kind="stable")]
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
        **purchasing,
        "social_posts": social_posts.reset_index(drop=True),
        "tickets": tickets_df,
        "ticket_comments": comments_df,
        "ideas": pd.DataFrame(d.ideas),
        "truth_authors": truth_authors.reset_index(drop=True),
        "truth_ideas": pd.DataFrame(d.truth_ideas),
        "truth_texts": pd.DataFrame(
            truth_texts, columns=["source", "source_id", "intent", "language"]
        ),
    }


def _write(df: pd.DataFrame, path: Path) -> None:
    """One export file, written by DuckDB, which also formats the cells on every core (pandas'
    writers took most of a large company's time): CSV with a header and quotes only where
    needed, or JSON lines; timestamps as ``YYYY-MM-DDTHH:MM:SSZ``, flags as ``True``/``False``.
    """
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    columns = []
    for col in df.columns:
        name = '"' + str(col).replace('"', '""') + '"'
        values = df[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            expr = f"strftime({name}, '%Y-%m-%dT%H:%M:%SZ')"
        elif pd.api.types.is_bool_dtype(values):
            expr = f"CASE WHEN {name} THEN 'True' ELSE 'False' END"
        elif pd.api.types.is_numeric_dtype(values):
            expr = name
        elif path.suffix == ".csv":
            # DuckDB's CSV quotes an empty string (to tell it from NULL); the files never did.
            expr = f"NULLIF(CAST({name} AS VARCHAR), '')"
        else:
            expr = f"CAST({name} AS VARCHAR)"
        columns.append(f"{expr} AS {name}")
    frame = df.copy(deep=False)
    for col in df.columns:
        if len(df) and df[col].dtype == object and isinstance(df[col].iloc[0], date):
            frame[col] = df[col].astype(str)  # calendar days as YYYY-MM-DD
    with duckdb.connect() as con:
        con.register("export", frame)
        options = "FORMAT json" if path.suffix == ".jsonl" else "FORMAT csv, HEADER true"
        query = f"SELECT {', '.join(columns)} FROM export"
        con.execute(f"COPY ({query}) TO '{path.as_posix()}' ({options})")


def _write_tables(jobs: list[tuple[pd.DataFrame, Path]]) -> None:
    for frame, path in jobs:
        _write(frame, path)


def write_sample(spec: SampleSpec, out_dir: Path, truth_dir: Path | None) -> dict[str, int]:
    """Generate the company and write raw exports (and ground truth when ``truth_dir`` is set).

    Customers and orders are written by a child process while the conversations are drawn
    (where ``fork`` exists): 7.4 M orders took a tenth of a million customers' time.

    Returns:
        Row counts per written table.
    """
    exports = {name: out_dir / rel for name, rel in RAW_LAYOUT.items()}

    def destination(name: str) -> Path | None:
        if name.startswith("truth_"):
            return None if truth_dir is None else truth_dir / f"{name.removeprefix('truth_')}.csv"
        return exports.get(name)

    counts: dict[str, int] = {}
    written: set[str] = set()
    writers: list[tuple[multiprocessing.process.BaseProcess, list[str]]] = []

    def write(tables: dict[str, pd.DataFrame], in_child: bool) -> None:
        jobs = [(frame, path) for name, frame in tables.items() if (path := destination(name))]
        counts.update({name: len(frame) for name, frame in tables.items() if destination(name)})
        written.update(tables)
        context = fork_context() if in_child else None
        if context is None:
            _write_tables(jobs)
            return
        import duckdb  # noqa: F401  (imported before the fork, not in the child)

        writer = context.Process(target=_write_tables, args=(jobs,), name="patronage-sample-writer")
        writer.start()
        writers.append((writer, [path.name for _, path in jobs]))

    tables = generate_sample(spec, ready=lambda final: write(final, in_child=True))
    write({name: f for name, f in tables.items() if name not in written}, in_child=False)
    for writer, files in writers:
        writer.join()
        if writer.exitcode:
            raise RuntimeError(f"writing {', '.join(files)} failed (exit code {writer.exitcode})")
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
    return counts
