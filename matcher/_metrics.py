"""Ranking and calibration metrics: pure functions of a ranked list, scores and labels.

Every function here takes plain sequences or arrays and returns a number or a frame; nothing
knows about datasets or matchers, so each can be checked against values worked out by hand.
Relevance is binary throughout: an item is relevant (a held-out link) or it is not.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

#: A ranking or a set of items: any sequence of hashable items, numpy arrays included.
Items = Sequence[Hashable] | np.ndarray

__all__ = [
    "auc",
    "catalogue_coverage",
    "ndcg_at_k",
    "precision_at_k",
    "recall_at_k",
    "reciprocal_rank",
    "reliability_curve",
]


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def _hits(ranked: Items, relevant: Collection[Hashable], k: int) -> list[bool]:
    _check_k(k)
    wanted = set(relevant)
    return [item in wanted for item in list(ranked)[:k]]


def recall_at_k(ranked: Items, relevant: Collection[Hashable], k: int) -> float:
    """Share of the relevant items found in the first ``k`` of a ranking.

    Parameters
    ----------
    ranked : sequence
        Items, best first.
    relevant : collection
        The items that count as hits.
    k : int
        Cut-off, at least 1.

    Returns
    -------
    float
        ``|top k ∩ relevant| / |relevant|``; NaN where nothing is relevant (there is nothing
        to recall, and 0 would wrongly count it as a miss).

    Examples
    --------
    >>> recall_at_k(["a", "b", "c", "d"], {"b", "d"}, 2)
    0.5
    """
    hits = _hits(ranked, relevant, k)
    n_relevant = len(set(relevant))
    if n_relevant == 0:
        return math.nan
    return sum(hits) / n_relevant


def precision_at_k(ranked: Items, relevant: Collection[Hashable], k: int) -> float:
    """Share of the first ``k`` places that hold a relevant item.

    The denominator is ``k`` even where the ranking is shorter, as in microsoft/recommenders:
    an empty place is a wasted recommendation slot.

    Examples
    --------
    >>> precision_at_k(["a", "b", "c", "d"], {"b", "d"}, 4)
    0.5
    """
    return sum(_hits(ranked, relevant, k)) / k


def ndcg_at_k(ranked: Items, relevant: Collection[Hashable], k: int) -> float:
    """Normalised discounted cumulative gain at ``k`` with binary relevance.

    A hit at 1-based position ``i`` gains ``1 / log2(i + 1)``; the ideal ranking puts
    ``min(k, |relevant|)`` hits first.

    Returns
    -------
    float
        In [0, 1]; NaN where nothing is relevant.

    Examples
    --------
    >>> round(ndcg_at_k(["a", "b"], {"a"}, 2), 6)
    1.0
    >>> round(ndcg_at_k(["a", "b"], {"b"}, 2), 6)
    0.63093
    """
    hits = _hits(ranked, relevant, k)
    n_relevant = len(set(relevant))
    if n_relevant == 0:
        return math.nan
    dcg = sum(1.0 / math.log2(i + 2) for i, hit in enumerate(hits) if hit)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, n_relevant)))
    return dcg / ideal


def reciprocal_rank(ranked: Items, relevant: Collection[Hashable]) -> float:
    """``1 / position`` of the first relevant item (1-based); 0 where none is ranked.

    Examples
    --------
    >>> reciprocal_rank(["a", "b", "c"], {"c"})
    0.3333333333333333
    """
    wanted = set(relevant)
    for position, item in enumerate(ranked, start=1):
        if item in wanted:
            return 1.0 / position
    return 0.0


def auc(scores: Iterable[float], labels: Iterable[bool]) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random negative.

    Computed from ranks (the Mann-Whitney U statistic), so equal scores count one half, and
    the value does not depend on the order items are given in.

    Parameters
    ----------
    scores : array-like of float
        Higher means more likely positive.
    labels : array-like of bool
        True for positives.

    Returns
    -------
    float
        In [0, 1]; NaN where there are no positives or no negatives.

    Examples
    --------
    >>> auc([0.9, 0.5, 0.5, 0.1], [True, True, False, False])
    0.875
    """
    s = np.asarray(list(scores) if not isinstance(scores, np.ndarray) else scores, dtype=float)
    y = np.asarray(list(labels) if not isinstance(labels, np.ndarray) else labels, dtype=bool)
    if s.shape != y.shape:
        raise ValueError(f"scores and labels differ in shape: {s.shape} vs {y.shape}")
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(s, method="average")
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def catalogue_coverage(top_lists: Iterable[Iterable[Hashable]], n_items: int) -> float:
    """Share of the catalogue that appears in at least one recommendation list.

    Parameters
    ----------
    top_lists : iterable of iterables
        One top-k list per user (here: per buyer).
    n_items : int
        Size of the catalogue (here: the suppliers that may be recommended).

    Examples
    --------
    >>> catalogue_coverage([["a", "b"], ["b", "c"]], 6)
    0.5
    """
    if n_items <= 0:
        raise ValueError(f"n_items must be positive, got {n_items}")
    seen: set[Hashable] = set()
    for items in top_lists:
        seen.update(items)
    return len(seen) / n_items


def reliability_curve(
    scores: Iterable[float], labels: Iterable[bool], bins: int = 10
) -> pd.DataFrame:
    """Observed rate of positives per bin of predicted score, for scores in [0, 1].

    Bins are of equal width; a score of exactly 1 falls in the last bin. Empty bins are kept
    (count 0, NaN means) so curves from different runs line up row by row.

    Parameters
    ----------
    scores : array-like of float
        Predicted probabilities (or scores meant to read as such), each in [0, 1].
    labels : array-like of bool
        True where the event happened.
    bins : int
        Number of bins.

    Returns
    -------
    DataFrame
        Columns ``bin_low, bin_high, mean_score, observed_rate, count``, one row per bin.

    Examples
    --------
    >>> reliability_curve([0.1, 0.15, 0.9], [False, True, True], bins=2)["observed_rate"].tolist()
    [0.5, 1.0]
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    s = np.asarray(list(scores) if not isinstance(scores, np.ndarray) else scores, dtype=float)
    y = np.asarray(list(labels) if not isinstance(labels, np.ndarray) else labels, dtype=float)
    if s.shape != y.shape:
        raise ValueError(f"scores and labels differ in shape: {s.shape} vs {y.shape}")
    if s.size and (np.isnan(s).any() or s.min() < 0.0 or s.max() > 1.0):
        raise ValueError("reliability_curve needs scores in [0, 1]")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.minimum((s * bins).astype(np.int64), bins - 1)
    count = np.bincount(which, minlength=bins)
    score_sum = np.bincount(which, weights=s, minlength=bins)
    label_sum = np.bincount(which, weights=y, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = np.where(count > 0, score_sum / np.maximum(count, 1), np.nan)
        observed = np.where(count > 0, label_sum / np.maximum(count, 1), np.nan)
    return pd.DataFrame(
        {
            "bin_low": edges[:-1],
            "bin_high": edges[1:],
            "mean_score": mean_score,
            "observed_rate": observed,
            "count": count.astype(np.int64),
        }
    )
