"""EASE as pair features and as a candidate source, for one batch of buyers on one snapshot.

The snapshot carries EASE solved on its own links (:func:`ketnoi.matcher._index.with_ease`), so a
training positive, whose link is not in its snapshot, gets the score EASE would have given it
before the link existed, exactly as its graph features do.
"""

from __future__ import annotations

import numpy as np

from ketnoi.matcher._index import FirmIndex, LinkSnapshot

__all__ = ["ease_block", "ease_pair_values"]


def ease_block(
    index: FirmIndex, snap: LinkSnapshot, buyers: np.ndarray, n_best: int
) -> tuple[np.ndarray | None, np.ndarray | None, list[np.ndarray] | None]:
    """EASE scores of a batch, the eligible ones sorted per row, and each row's ``n_best``.

    Eligible: listed suppliers the buyer has no link to, other than the buyer itself.
    """
    ease = snap.ease
    if ease is None:
        return None, None, None
    scores = ease.block(buyers)
    eligible = scores.copy()
    linked = snap.links[buyers][:, ease.columns].tocoo()
    eligible[linked.row, linked.col] = -np.inf
    eligible[:, ~index.listed_supplier[ease.columns]] = -np.inf
    own = index.supplier_ids.get_indexer(index.buyer_ids[buyers])  # -1 unless role both
    own_col = np.where(own >= 0, ease.column_of[np.maximum(own, 0)], -1)
    itself = np.flatnonzero(own_col >= 0)
    eligible[itself, own_col[itself]] = -np.inf
    m = min(n_best, eligible.shape[1])
    top: list[np.ndarray] = []
    if m:
        best = np.argpartition(-eligible, m - 1, axis=1)[:, :m]
        for row, cols in enumerate(best):
            values = eligible[row, cols]
            cols = cols[np.lexsort((cols, -values))]
            top.append(ease.columns[cols[eligible[row, cols] > 0]])
    else:
        top = [np.zeros(0, dtype=np.int64) for _ in buyers]
    return scores, np.sort(eligible, axis=1), top


def ease_pair_values(
    snap: LinkSnapshot,
    buyers: np.ndarray,
    scores: np.ndarray | None,
    eligible_sorted: np.ndarray | None,
    local: np.ndarray,
    ps: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the EASE score and log(1 + rank); NaN where EASE says nothing.

    ``local`` holds each pair's row in the batch ``buyers``, ``ps`` its supplier position. The
    rank counts the eligible suppliers (not linked to the buyer) that score higher, so a pair
    ranks the same whether or not its own (ended) link is in the snapshot. A buyer without
    links, or a supplier EASE does not cover, has no EASE values.
    """
    n = len(ps)
    score = np.full(n, np.nan)
    rank = np.full(n, np.nan)
    if scores is None or eligible_sorted is None or snap.ease is None or n == 0:
        return score, rank
    col = snap.ease.column_of[ps]
    has_links = snap.buyer_degree[buyers[local]] > 0
    ok = (col >= 0) & has_links
    score[ok] = scores[local[ok], col[ok]]
    width = eligible_sorted.shape[1]
    for row in np.unique(local[ok]):
        at = np.flatnonzero(ok & (local == row))
        above = width - np.searchsorted(eligible_sorted[row], score[at], side="right")
        rank[at] = np.log1p(above + 1.0)
    return score, rank
