"""A learning-to-rank scorer: LightGBM's lambdarank, grouped by buyer, as a pipeline step.

The other rankers are classifiers: they learn whether a pair links. Lambdarank learns the order
of one buyer's candidates directly (Burges 2010: gradients weighted by the change in NDCG a swap
makes), which is what a match list is judged by. Each query is one buyer in one training
period (or fold): its links of that period and the negatives sampled from its candidates.

LightGBM is optional (``pip install 'ketnoi[ml]'``): without it ``model="auto"`` leaves the
ranker out of the comparison, and naming it raises an :class:`ImportError` that says what to
install. Its raw scores are not chances: :func:`ketnoi.matcher._selection.platt_scaling` maps
them (through :meth:`LambdaRanker.predict_proba`, a logistic of the raw score) to observed rates
on the held-back period, as it does for every ranker.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

__all__ = ["LambdaRanker", "lightgbm_available", "query_ids"]

# LightGBM refuses queries of more than 10,000 rows; a buyer with hundreds of links in one
# period (and 12 negatives each) can exceed that, so large queries are cut into shuffled parts.
_MAX_QUERY_ROWS = 5_000


def lightgbm_available() -> bool:
    """Whether the optional ``lightgbm`` package can be imported."""
    return importlib.util.find_spec("lightgbm") is not None


def query_ids(groups: np.ndarray, buyers: np.ndarray) -> np.ndarray:
    """One id per (training period or fold, buyer): the queries lambdarank orders within.

    Examples
    --------
    >>> query_ids(np.array([0, 0, 1, 1]), np.array([5, 7, 5, 5])).tolist()
    [0, 1, 2, 2]
    """
    keys = np.asarray(groups, dtype=np.int64) * (int(np.max(buyers, initial=0)) + 1) + np.asarray(
        buyers, dtype=np.int64
    )
    return np.unique(keys, return_inverse=True)[1].astype(np.int64)


class LambdaRanker(ClassifierMixin, BaseEstimator):
    """LightGBM lambdarank behind a classifier's interface, for a scikit-learn ``Pipeline``.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples, reg_lambda
        LightGBM's; fixed (not tuned per dataset), close to the gradient-boosting ranker's.
    monotone_constraints : list of int, optional
        Per feature: 1 never lowers the score as the feature grows, -1 never raises it.
    random_state : int

    Notes
    -----
    ``fit(X, y, query=...)`` takes each row's query id (see :func:`query_ids`); without one, all
    rows are one query. ``predict_proba`` is a logistic of the raw ranking score: monotonic in
    it, in [0, 1], but a chance only once calibrated.
    """

    def __init__(
        self,
        n_estimators: int = 250,
        learning_rate: float = 0.06,
        num_leaves: int = 31,
        min_child_samples: int = 40,
        reg_lambda: float = 1.0,
        monotone_constraints: list[int] | None = None,
        random_state: int = 0,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.monotone_constraints = monotone_constraints
        self.random_state = random_state

    def fit(self, X: Any, y: Any, query: np.ndarray | None = None) -> LambdaRanker:
        """Fit on rows ``X`` labelled ``y`` (1: linked), ordered within each ``query``."""
        lightgbm = _import_lightgbm()
        x = np.asarray(X, dtype=float)
        labels = np.asarray(y, dtype=float)
        query = np.zeros(len(labels), np.int64) if query is None else np.asarray(query, np.int64)
        rng = np.random.default_rng(self.random_state)
        shuffled = rng.permutation(len(labels))
        order = shuffled[np.argsort(query[shuffled], kind="stable")]
        sorted_query = query[order]
        # Parts of at most _MAX_QUERY_ROWS rows within each query (rows already shuffled).
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_query)) + 1]
        position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        parts = sorted_query * (len(order) // _MAX_QUERY_ROWS + 1) + position // _MAX_QUERY_ROWS
        sizes = np.unique(parts, return_counts=True)[1]
        model = lightgbm.LGBMRanker(
            objective="lambdarank",
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            reg_lambda=self.reg_lambda,
            monotone_constraints=self.monotone_constraints,
            random_state=self.random_state,
            # One thread, as the other rankers: the machine serves while it retrains.
            n_jobs=1,
            verbose=-1,
        )
        model.fit(x[order], labels[order], group=sizes)
        self.model_ = model
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = x.shape[1]
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """The raw ranking score of each row (higher ranks first)."""
        return np.asarray(self.model_.predict(np.asarray(X, dtype=float)), dtype=float)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns (1 - p, p) with p a logistic of the raw score."""
        p = 1.0 / (1.0 + np.exp(-np.clip(self.decision_function(X), -40, 40)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(int)


def _import_lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError:
        raise ImportError(
            "the lgbm_rank ranker needs the optional lightgbm package: "
            "pip install 'ketnoi[ml]' (or choose another model)"
        ) from None
    return lightgbm
