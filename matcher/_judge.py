"""Judging rankings against held-out links: the protocol :func:`evaluate` and the plots share.

For one fitted ranker, :func:`judge_rankings` scores the judged buyers (those with a held-out
new pair to a listed supplier) over the same universe of suppliers for every method (listed,
not itself, not linked in training), settles equal scores by one seeded random order shared by
all methods, and tallies recall and NDCG at ``k``, reciprocal rank, AUC, coverage and candidate
recall. :func:`judged_relevant` gives the held-out suppliers of the judged buyers in the order
the tally keeps, so a recall curve can be read off the tally's top lists.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pandas as pd

from ketnoi import graph
from ketnoi.matcher._baselines import Ranker
from ketnoi.matcher._index import FirmIndex, build_snapshot, firm_index
from ketnoi.matcher._metrics import auc, catalogue_coverage, ndcg_at_k, recall_at_k

__all__ = ["Tally", "best_rank", "judge_rankings", "judged_relevant", "top_k"]


def top_k(scores: np.ndarray, tiebreak: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best scores, best first; equal scores by ``tiebreak``."""
    n = len(scores)
    kk = min(k, n)
    if kk == 0:
        return np.zeros(0, dtype=np.int64)
    if kk < n:
        # Everything above the k-th best score is in; the places left go to the tied items
        # with the smallest tie-break, without sorting the whole universe.
        kth = np.partition(scores, n - kk)[n - kk]
        above = np.flatnonzero(scores > kth)
        tied = np.flatnonzero(scores == kth)
        need = kk - len(above)
        if need < len(tied):
            tied = tied[np.argpartition(tiebreak[tied], need - 1)[:need]]
        top = np.concatenate([above, tied])
    else:
        top = np.arange(n)
    return top[np.lexsort((tiebreak[top], -scores[top]))]


def best_rank(scores: np.ndarray, tiebreak: np.ndarray, relevant: np.ndarray) -> int:
    """1-based rank of the best-placed relevant item under (score desc, tiebreak asc)."""
    s_rel = scores[relevant][:, None]
    t_rel = tiebreak[relevant][:, None]
    ahead = (scores[None, :] > s_rel) | ((scores[None, :] == s_rel) & (tiebreak[None, :] < t_rel))
    return int(ahead.sum(axis=1).min()) + 1


@dataclasses.dataclass
class Tally:
    """What judging one ranker gathered, one entry per judged buyer (buyers ascending).

    ``buyer_ids`` names the judged buyers in that order; ``tops`` holds each buyer's
    top-``k`` supplier positions; ``in_candidates`` counts the held-out pairs among the
    ranker's candidates (``candidate_known`` False where it has none); ``cal_scores`` and
    ``cal_labels`` are the candidates' scores and outcomes, kept only when asked to calibrate.
    """

    buyer_ids: list[str] = dataclasses.field(default_factory=list)
    recall: list[float] = dataclasses.field(default_factory=list)
    ndcg: list[float] = dataclasses.field(default_factory=list)
    rr: list[float] = dataclasses.field(default_factory=list)
    auc: list[float] = dataclasses.field(default_factory=list)
    tops: list[np.ndarray] = dataclasses.field(default_factory=list)
    in_candidates: int = 0
    candidate_known: bool = True
    cal_scores: list[np.ndarray] = dataclasses.field(default_factory=list)
    cal_labels: list[np.ndarray] = dataclasses.field(default_factory=list)


def _candidate_mask(
    ranker: Ranker, batch_ids: list[str], scores: np.ndarray, supplier_ids: pd.Index
) -> np.ndarray | None:
    """Boolean batch x suppliers (evaluation order): the method's candidates, if it has any."""
    if hasattr(ranker, "candidates"):
        frame = ranker.candidates(batch_ids)
        mask = np.zeros(scores.shape, dtype=bool)
        rows = pd.Index(batch_ids).get_indexer(pd.Index(frame["buyer_id"]))
        cols = supplier_ids.get_indexer(pd.Index(frame["supplier_id"]))
        ok = (rows >= 0) & (cols >= 0)
        mask[rows[ok], cols[ok]] = True
        return mask
    threshold = getattr(ranker, "candidate_threshold", None)
    if threshold is None:
        return None
    return scores >= threshold


def _findable_pairs(index: FirmIndex, heldout: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Buyer and supplier positions of the held-out pairs some method could find."""
    supplier_ids = index.supplier_ids
    listed = index.listed_supplier.astype(bool)
    own = supplier_ids.get_indexer(index.buyer_ids)
    hb = index.buyer_ids.get_indexer(pd.Index(heldout["buyer_id"]))
    hs = supplier_ids.get_indexer(pd.Index(heldout["supplier_id"]))
    # A pair whose supplier may never be recommended (unlisted, unknown) cannot be found by
    # any method; it is left out rather than counted as everyone's miss.
    ok = (hb >= 0) & (hs >= 0)
    ok[ok] &= listed[hs[ok]] & (own[hb[ok]] != hs[ok])
    return hb[ok], hs[ok]


def judged_relevant(train: graph.Dataset, heldout: pd.DataFrame) -> list[np.ndarray]:
    """Held-out supplier positions per judged buyer, as :func:`judge_rankings` counts them.

    One array per judged buyer, in the order of :attr:`Tally.tops` (buyers ascending).
    """
    hb, hs = _findable_pairs(firm_index(train), heldout)
    return [np.unique(hs[hb == b]) for b in np.unique(hb)]


def judge_rankings(
    ranker: Ranker,
    train: graph.Dataset,
    heldout: pd.DataFrame,
    *,
    k: int,
    seed: int,
    batch_size: int,
    calibrate: bool,
) -> tuple[dict[str, float], Tally]:
    """Judge a fitted ranker on the held-out pairs: the figures of one (method, seed) row.

    Parameters
    ----------
    ranker : Ranker
        Fitted on ``train``.
    train : Dataset
        The training data (its links define each buyer's universe).
    heldout : DataFrame
        Columns ``buyer_id, supplier_id``: the hidden new pairs.
    k : int
        Cut-off of recall, NDCG and the top lists.
    seed : int
        Seed of the shared tie-break order.
    batch_size : int
        Buyers scored at a time.
    calibrate : bool
        Keep the candidates' scores and labels for a reliability curve.

    Returns
    -------
    row : dict
        :data:`~ketnoi.matcher.METRICS`, ``score_seconds``, ``judged_buyers`` and
        ``heldout_pairs``.
    tally : Tally
    """
    index = firm_index(train)
    supplier_ids = index.supplier_ids
    n_sup = len(supplier_ids)
    linked = build_snapshot(index, train.links).links  # buyers x suppliers, active or ended
    listed = index.listed_supplier.astype(bool)
    own = supplier_ids.get_indexer(index.buyer_ids)  # a firm with role both is also a supplier
    hb, hs = _findable_pairs(index, heldout)
    judged = np.unique(hb)

    # One random order of suppliers per seed, shared by all methods, settles equal scores:
    # no method gains or loses by ties, and none can exploit a fixed order such as firm id.
    tiebreak = np.random.default_rng([seed, 7919]).permutation(n_sup).astype(float)
    columns = ranker.supplier_ids_.get_indexer(supplier_ids)
    aligned = bool((columns == np.arange(n_sup)).all()) and len(ranker.supplier_ids_) == n_sup

    tally = Tally()
    order = np.argsort(hb, kind="stable")
    hb_sorted, hs_sorted = hb[order], hs[order]
    score_seconds = 0.0
    for start in range(0, len(judged), batch_size):
        batch = judged[start : start + batch_size]
        batch_ids = [str(b) for b in index.buyer_ids[batch]]
        tally.buyer_ids += batch_ids
        t0 = time.perf_counter()
        raw = np.asarray(ranker.score_buyers(batch_ids), dtype=float)
        if aligned:
            scores = raw
        else:
            scores = np.full((len(batch), n_sup), -np.inf)
            scores[:, columns >= 0] = raw[:, columns[columns >= 0]]
        scores = np.nan_to_num(scores, nan=-np.inf)
        mask = _candidate_mask(ranker, batch_ids, scores, supplier_ids)
        score_seconds += time.perf_counter() - t0
        if mask is None:
            tally.candidate_known = False
        for i, b in enumerate(batch):
            lo, hi = np.searchsorted(hb_sorted, [b, b + 1])
            relevant_sup = hs_sorted[lo:hi]
            universe = listed.copy()
            universe[linked.indices[linked.indptr[b] : linked.indptr[b + 1]]] = False
            if own[b] >= 0:
                universe[own[b]] = False
            sup_u = np.flatnonzero(universe)
            s_u = scores[i, sup_u]
            label = np.isin(sup_u, relevant_sup)
            rel = np.flatnonzero(label)
            top = top_k(s_u, tiebreak[sup_u], k)
            tally.recall.append(recall_at_k(top, rel, k))
            tally.ndcg.append(ndcg_at_k(top, rel, k))
            # The same value reciprocal_rank gives on the full ranking, without sorting it.
            tally.rr.append(1.0 / best_rank(s_u, tiebreak[sup_u], rel))
            tally.auc.append(auc(s_u, label))
            tally.tops.append(sup_u[top])
            if mask is not None:
                tally.in_candidates += int(mask[i, relevant_sup].sum())
                if calibrate:
                    cand = mask[i, sup_u]
                    tally.cal_scores.append(s_u[cand])
                    tally.cal_labels.append(label[cand])

    n_listed = int(listed.sum())
    row = {
        "recall_at_k": _mean(tally.recall),
        "ndcg_at_k": _mean(tally.ndcg),
        "mrr": _mean(tally.rr),
        "auc": _mean(tally.auc),
        "coverage": catalogue_coverage(tally.tops, n_listed) if n_listed else math.nan,
        "candidate_recall": (
            tally.in_candidates / len(hb) if tally.candidate_known and len(hb) else math.nan
        ),
        "score_seconds": score_seconds,
        "judged_buyers": float(len(judged)),
        "heldout_pairs": float(len(hb)),
    }
    return row, tally


def _mean(values: list[float]) -> float:
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if arr.size else math.nan
