"""A learned blend of two rankers: a weighted sum of their log-odds, the weight learned.

Issue 12 found that averaging the matcher's list with EASE's does not beat EASE: the gain has
to be learned. :func:`blend_weight` chooses the weight of a learned ranker against the ``ease``
ranker on the inner-validation candidates, and judges the blend *cross-fitted*: the judged
buyers are split in two seeded halves, each half is scored with the weight the other half
chose, so the blend's inner NDCG@10 is not flattered by its own free parameter and compares
fairly with the single rankers, which have none.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone

__all__ = ["BLEND_WEIGHTS", "BlendedRanker", "blend_logit", "blend_weight", "buyer_ndcg"]

#: The weights tried for the learned ranker (EASE's ranker takes the rest). 0 and 1 are the
#: single rankers themselves, already in the table.
BLEND_WEIGHTS: tuple[float, ...] = (0.2, 0.35, 0.5, 0.65, 0.8)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def blend_logit(first: np.ndarray, second: np.ndarray, weight: float) -> np.ndarray:
    """``weight`` x log-odds of ``first`` + (1 - ``weight``) x log-odds of ``second``.

    Examples
    --------
    >>> float(blend_logit(np.array([0.5]), np.array([0.5]), 0.3)[0])
    0.0
    """
    return weight * _logit(first) + (1.0 - weight) * _logit(second)


def buyer_ndcg(
    buyers: np.ndarray,
    suppliers: np.ndarray,
    labels: np.ndarray,
    relevant: pd.Series,
    scores: np.ndarray,
    k: int = 10,
) -> pd.Series:
    """NDCG@k of each judged buyer (index of ``relevant``: buyer, value: its relevant count).

    A buyer's candidates are ranked by ``scores``, ties broken by supplier position; a buyer
    with no candidate scores 0.

    Examples
    --------
    >>> buyer_ndcg(np.array([0, 0, 0]), np.array([5, 6, 7]), np.array([0.0, 1.0, 0.0]),
    ...     pd.Series({0: 2}), np.array([0.9, 0.5, 0.1])).round(4).tolist()  # 1 of 2, rank 2
    [0.3869]
    """
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    frame = pd.DataFrame(
        {"buyer": buyers, "supplier": suppliers, "score": scores, "y": labels}
    ).sort_values(["buyer", "score", "supplier"], ascending=[True, False, True])
    frame["rank"] = frame.groupby("buyer").cumcount()
    top = frame[frame["rank"] < k]
    dcg = (top["y"] * discount[top["rank"].to_numpy()]).groupby(top["buyer"]).sum()
    dcg = dcg.reindex(relevant.index, fill_value=0.0)
    ideal = np.array([discount[: min(k, int(n))].sum() for n in relevant.to_numpy()])
    return pd.Series(dcg.to_numpy() / ideal, index=relevant.index, dtype=float)


def blend_weight(
    per_weight: dict[float, pd.Series], seed: int
) -> tuple[float, float, dict[float, float]]:
    """The weight to use, the blend's cross-fitted mean NDCG, and each weight's plain mean.

    ``per_weight`` maps each weight to the judged buyers' NDCG with it (one index for all).
    Each of two seeded halves of the buyers takes the weight the other half scores best with;
    the cross-fitted mean averages the buyers' NDCG under those weights. The weight returned
    is the best on all buyers. Ties go to the smaller weight (more of EASE's order).

    Examples
    --------
    >>> ndcg = {0.2: pd.Series([0.1, 0.2, 0.3, 0.4]), 0.8: pd.Series([0.2, 0.3, 0.4, 0.5])}
    >>> weight, crossed, means = blend_weight(ndcg, seed=0)
    >>> weight, round(crossed, 2)
    (0.8, 0.35)
    """
    weights = sorted(per_weight)
    table = pd.DataFrame({w: per_weight[w] for w in weights})
    means = {w: float(table[w].mean()) for w in weights}
    best = max(weights, key=lambda w: (means[w], -w))
    half = np.random.default_rng(seed).permutation(len(table)) % 2 == 0
    crossed = np.zeros(len(table))
    for side in (half, ~half):
        other = table[~side]
        if len(other) == 0:
            choice = best
        else:
            choice = max(weights, key=lambda w: (float(other[w].mean()), -w))
        crossed[side] = table[choice].to_numpy()[side]
    return best, float(crossed.mean()) if len(crossed) else 0.0, means


class BlendedRanker(ClassifierMixin, BaseEstimator):
    """Two scorers' log-odds blended: ``weight`` x the first + (1 - ``weight``) x the second.

    Parameters
    ----------
    first, second : estimator
        Unfitted scikit-learn estimators with ``predict_proba`` (the rankers' pipelines).
    weight : float
        The first scorer's share, in [0, 1].

    Notes
    -----
    ``fit`` fits a clone of each on the same rows (``fit_params`` go to the one that takes
    them: ``first_params`` and ``second_params``). ``predict_proba`` is the logistic of the
    blended log-odds, which Platt scaling then calibrates as any ranker's.
    """

    def __init__(self, first: Any = None, second: Any = None, weight: float = 0.5):
        self.first = first
        self.second = second
        self.weight = weight

    def fit(
        self,
        X: Any,
        y: Any,
        first_params: dict[str, Any] | None = None,
        second_params: dict[str, Any] | None = None,
    ) -> BlendedRanker:
        self.first_ = clone(self.first).fit(X, y, **(first_params or {}))
        self.second_ = clone(self.second).fit(X, y, **(second_params or {}))
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = pd.DataFrame(X).shape[1]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        z = blend_logit(
            self.first_.predict_proba(X)[:, 1], self.second_.predict_proba(X)[:, 1], self.weight
        )
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)
