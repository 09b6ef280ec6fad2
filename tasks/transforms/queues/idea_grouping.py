"""Group mentions of the same idea by meaning: nearest-neighbour candidates, then average linkage.

Token overlap chained unrelated ideas into a few mega-clusters and compared every pair. Here
each mention's ``k`` nearest neighbours (usearch, approximate, in sub-quadratic time) above the
similarity threshold are the only candidate pairs; each connected set of candidates is then cut
by average linkage (scipy), which joins two groups only when their members are similar *on
average*, so one ambiguous mention cannot bridge two ideas.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

# Cosine similarity at or above which two mentions are one idea, fixed on Patronage's own
# paraphrase set (tests/data/idea_paraphrases.csv; 23 ideas × 4 wordings, many of them near misses
# in one domain: weekend delivery vs. delivery slots vs. live tracking), not on evaluation data:
# pair F1 0.62 at 0.30, 0.67 at 0.40 (the best), 0.58 at 0.45, 0.49 at 0.50.
DEFAULT_THRESHOLD = 0.40
NEIGHBOURS = 15
# Exact average linkage holds a component's pairwise distances in memory (n²/2 floats); a
# larger component is cut by average linkage along its nearest-neighbour graph only.
MAX_EXACT_COMPONENT = 2_000


def _candidate_pairs(
    vectors: np.ndarray, threshold: float, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, cols, similarities)`` of the candidate pairs at or above ``threshold``."""
    n = len(vectors)
    if n <= 2_000:  # small enough to compare exactly: every pair at once
        sims = vectors @ vectors.T
        rows, cols = np.nonzero(np.triu(sims >= threshold, k=1))
        return rows, cols, sims[rows, cols]
    from usearch.index import Index

    index = Index(ndim=vectors.shape[1], metric="cos", dtype="f32")
    index.add(np.arange(n), vectors)
    found = index.search(vectors, min(k + 1, n))
    keys, distances = np.asarray(found.keys), np.asarray(found.distances)
    rows = np.repeat(np.arange(n), keys.shape[1])
    cols, sims = keys.ravel(), 1.0 - distances.ravel()
    keep = (sims >= threshold) & (rows != cols) & (cols >= 0) & (cols < n)
    return rows[keep], cols[keep].astype(np.int64), sims[keep]


def _components(n: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _average_linkage(vectors: np.ndarray, threshold: float) -> np.ndarray:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    distances = np.clip(pdist(vectors.astype(np.float64), metric="cosine"), 0, 2)
    return fcluster(linkage(distances, method="average"), t=1.0 - threshold, criterion="distance")


def group_vectors(
    vectors: np.ndarray, threshold: float = DEFAULT_THRESHOLD, k: int = NEIGHBOURS
) -> np.ndarray:
    """One group number per row (0, 1, …, in order of each group's first row).

    Candidate pairs (each mention's ``k`` nearest neighbours at or above ``threshold``) are cut
    into connected sets; each set is grouped by exact average linkage. A set too large for
    that is first split by raising the pair threshold in small steps over the same candidate
    pairs, so no pair is searched twice.

    Args:
        vectors: Unit-length embeddings, one row per mention.
        threshold: Cosine similarity two mentions need, on average across two groups, to merge.
        k: Nearest neighbours considered per mention.
    """
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    rows, cols, sims = _candidate_pairs(vectors, threshold, k)
    labels = np.zeros(n, dtype=np.int64)
    next_label = 0
    pending = [(np.arange(n), np.arange(len(rows)), threshold)]
    while pending:
        nodes, edges, edge_threshold = pending.pop()
        edges = edges[sims[edges] >= edge_threshold]
        local = np.full(n, -1, dtype=np.int64)
        local[nodes] = np.arange(len(nodes))
        component = _components(len(nodes), local[rows[edges]], local[cols[edges]])
        edge_component = component[local[rows[edges]]]
        order = np.argsort(component, kind="stable")
        for part_local in np.split(order, np.flatnonzero(np.diff(component[order])) + 1):
            part = nodes[part_local]
            if len(part) > MAX_EXACT_COMPONENT:
                mine = edges[edge_component == component[part_local[0]]]
                pending.append((part, mine, edge_threshold + 0.02))
                continue
            sub = (
                np.zeros(1, dtype=np.int64)
                if len(part) == 1
                else _average_linkage(vectors[part], threshold)
            )
            labels[part] = next_label + pd.factorize(sub)[0]
            next_label = int(labels[part].max()) + 1
    # Numbered by first appearance, so the same input always gives the same numbers.
    return pd.factorize(labels)[0].astype(np.int64)


def group_texts(
    texts: Sequence[str],
    encode: Callable[[list[str]], np.ndarray],
    threshold: float = DEFAULT_THRESHOLD,
    k: int = NEIGHBOURS,
) -> np.ndarray:
    """``group_vectors`` of the texts' vectors, each distinct wording grouped once.

    The same words always belong to the same idea; grouped once, a wording repeated a
    hundred times no longer fills a mention's ``k`` nearest neighbours with copies of itself
    (which kept it from its paraphrases) nor weighs on the average linkage as a hundred
    mentions. Who backs an idea, and how often, counts in the queue's weighting, not here.

    Args:
        texts: One text per mention.
        encode: Unit vectors of a list of texts (the encoder, or stored vectors).
        threshold: As in ``group_vectors``.
        k: As in ``group_vectors``.

    Returns:
        One group number per text (0, 1, …, in order of each group's first text).
    """
    codes, distinct = pd.factorize(pd.Series(list(texts), dtype=object))
    if not len(distinct):
        return np.zeros(len(codes), dtype=np.int64)
    groups = group_vectors(encode(list(distinct)), threshold, k)
    return pd.factorize(groups[codes])[0].astype(np.int64)


def idea_keys(ids: pd.Series, groups: np.ndarray, prefix: str = "IDEA-") -> pd.Series:
    """Each mention's idea key: ``prefix`` + the id of its group's first mention (stable while
    that mention stays in the group, so new mentions join without renaming the idea)."""
    frame = pd.DataFrame({"id": ids.astype(str).to_numpy(), "group": groups})
    first = frame.groupby("group", sort=False)["id"].transform("first")
    return (prefix + first).set_axis(ids.index)


def pair_scores(truth: pd.Series, predicted: pd.Series) -> dict[str, float]:
    """Pairwise precision/recall/F1 and B-cubed precision/recall/F1 of a grouping."""
    t, p = truth.to_numpy(), predicted.to_numpy()
    same_t = t[:, None] == t[None, :]
    same_p = p[:, None] == p[None, :]
    upper = np.triu(np.ones_like(same_t, dtype=bool), k=1)
    tp = (same_t & same_p & upper).sum()
    pp, tt = (same_p & upper).sum(), (same_t & upper).sum()
    precision = tp / pp if pp else 1.0
    recall = tp / tt if tt else 1.0
    both = (same_t & same_p).sum(axis=1)
    b_precision = float(np.mean(both / same_p.sum(axis=1)))
    b_recall = float(np.mean(both / same_t.sum(axis=1)))

    def f1(a: float, b: float) -> float:
        return 2 * a * b / (a + b) if a + b else 0.0

    return {
        "pair_precision": float(precision),
        "pair_recall": float(recall),
        "pair_f1": f1(precision, recall),
        "bcubed_precision": b_precision,
        "bcubed_recall": b_recall,
        "bcubed_f1": f1(b_precision, b_recall),
    }
