"""What turns a pair's features into a score: the rule-based prior and the learned pipeline.

Where a dataset has enough links to learn from, :func:`make_pipeline` builds the scikit-learn
``Pipeline`` the :class:`~ketnoi.matcher.Matcher` fits (gradient boosting with monotonic
constraints by default, a scaled logistic regression on request). Where it has too few, the
documented prior of :data:`PRIOR_WEIGHTS` ranks instead: a logistic score of weighted features.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ketnoi.matcher._features import FEATURES, GRAPH_FEATURES, PROFILE_FEATURES
from ketnoi.matcher._lambdarank import LambdaRanker
from ketnoi.matcher._settings import RANKERS, MatcherSettings

__all__ = [
    "RANKER_FEATURES",
    "PRIOR_INTERCEPT",
    "PRIOR_WEIGHTS",
    "Columns",
    "FillAllMissing",
    "learned_score",
    "logit",
    "make_pipeline",
    "prior_score",
    "prior_terms",
    "sigmoid",
]

#: The rule-based prior used when there are too few links to learn from: a logistic score
#: ``1 / (1 + exp(-z))`` with ``z = PRIOR_INTERCEPT + sum(weight * feature)``. Category fit
#: dominates, requirements met and closeness follow; graph terms are zero without links.
PRIOR_INTERCEPT = -3.0
PRIOR_WEIGHTS: dict[str, float] = {
    "fit_level": 1.5,
    "required_certs_met": 1.0,
    "required_processes_met": 0.5,
    "text_similarity": 1.0,
    "same_park": 0.4,
    "distance_km": -0.02,
    "n_international_certs": 0.3,
    "capacity_ratio": 0.3,
    "outcome_good": 1.0,
    "outcome_declined": -2.0,
    "l3_normalised": 0.5,
    "supplier_popularity": 0.3,
    "similar_demand_buyers": 0.2,
}

# Directions the learned scorer may not contradict, whatever the sample says: meeting a
# requirement or fitting a category never lowers a score; a refusal never raises it.
_MONOTONIC = {
    "ease_score": 1,
    "ease_rank": -1,
    "fit_level": 1,
    "required_certs_met": 1,
    "required_processes_met": 1,
    "outcome_good": 1,
    "outcome_declined": -1,
}


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, clipped so that large log-odds do not overflow."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities, kept finite at 0 and 1."""
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def prior_terms(features: pd.DataFrame) -> pd.DataFrame:
    """Each prior term ``weight * feature`` per pair: one column per :data:`PRIOR_WEIGHTS` key.

    Distances are capped at 100 km and counts at 3 so that no single term swamps category
    fit; capacity counts only as enough (1) or not (0).
    """
    x = features.copy()
    x["distance_km"] = x["distance_km"].fillna(0.0).clip(upper=100.0)
    x["n_international_certs"] = x["n_international_certs"].clip(upper=3.0)
    x["capacity_ratio"] = (x["capacity_ratio"].fillna(-0.0) >= 0).astype(float) * x[
        "capacity_ratio"
    ].notna().astype(float)
    x["similar_demand_buyers"] = x["similar_demand_buyers"].clip(upper=3.0)
    return pd.DataFrame({name: x[name] * w for name, w in PRIOR_WEIGHTS.items()})


def prior_score(features: pd.DataFrame) -> np.ndarray:
    """The documented rule-based prior (see :data:`PRIOR_WEIGHTS`), in [0, 1]."""
    return sigmoid(PRIOR_INTERCEPT + prior_terms(features).sum(axis=1).to_numpy())


def learned_score(
    pipeline: Pipeline,
    features: pd.DataFrame,
    negative_rate: float,
    calibration: tuple[float, float] | None = None,
) -> np.ndarray:
    """Scores in [0, 1] of a fitted pipeline, as chances among all candidates.

    Parameters
    ----------
    pipeline : Pipeline
        Fitted on pairs whose negatives were sampled at ``negative_rate``.
    features : DataFrame
        The pipeline's feature columns, in its order.
    negative_rate : float
        Sampled negatives over candidate negatives.
    calibration : (slope, intercept), optional
        Platt scaling of the classifier's log-odds, fitted on inner-validation candidates
        (:func:`ketnoi.matcher._selection.platt_scaling`); where given it replaces the
        sampling-rate shift.
    """
    if len(features) < 20_000:
        # Small batches: OpenMP start-up and contention cost more than the trees themselves.
        with threadpool_limits(limits=1, user_api="openmp"):
            proba = pipeline.predict_proba(features)[:, 1]
    else:
        proba = pipeline.predict_proba(features)[:, 1]
    if calibration is not None:
        slope, intercept = calibration
        return sigmoid(slope * logit(proba) + intercept)
    # Negatives were subsampled; shifting the log-odds by log(rate) gives the odds among
    # all candidates, so a score reads as "how likely among the candidates".
    return sigmoid(logit(proba) + np.log(negative_rate))


class FillAllMissing(TransformerMixin, BaseEstimator):
    """Fill columns that were entirely missing in training with 0.

    Gradient boosting handles missing values natively, but not a column with no values at all
    (a dataset without coordinates or capacities); such a column carries no information anyway.
    """

    def fit(self, X: pd.DataFrame, y: Any = None) -> FillAllMissing:
        frame = pd.DataFrame(X)
        self.all_missing_ = [c for c in frame.columns if frame[c].isna().all()]
        self.n_features_in_ = frame.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        frame = pd.DataFrame(X).copy()
        if self.all_missing_:
            frame[self.all_missing_] = 0.0
        return frame


#: The features each selectable ranker reads (see :data:`ketnoi.matcher.MatcherSettings.model`).
#: ``ease`` orders by EASE, weighing the buyer's required certifications; the buyer's activity
#: only calibrates (it is the same for all of one buyer's candidates).
RANKER_FEATURES: dict[str, tuple[str, ...]] = {
    "hgb": tuple(FEATURES),
    "logistic": tuple(FEATURES),
    "hgb_profile": PROFILE_FEATURES,
    "hgb_graph": GRAPH_FEATURES,
    "ease": ("ease_score", "ease_rank", "required_certs_met", "buyer_activity"),
    "lgbm_rank": tuple(FEATURES),
}


class Columns(TransformerMixin, BaseEstimator):
    """Keep the named columns of a frame: a ranker that reads only some features."""

    def __init__(self, names: tuple[str, ...] = ()):
        self.names = names

    def fit(self, X: pd.DataFrame, y: Any = None) -> Columns:
        self.n_features_in_ = pd.DataFrame(X).shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(X)[list(self.names)]


def make_pipeline(settings: MatcherSettings, n_samples: int, ranker: str | None = None) -> Pipeline:
    """The unfitted scorer of ``ranker``, sized for ``n_samples`` training pairs.

    ``ranker`` defaults to ``settings.model`` (which must then name one of :data:`RANKERS`).
    The pipeline takes every feature of :data:`FEATURES` and reads those of
    :data:`RANKER_FEATURES`.
    """
    ranker = ranker or settings.model
    if ranker not in RANKERS:
        raise ValueError(f"ranker must be one of {RANKERS}, not {ranker!r}")
    names = RANKER_FEATURES[ranker]
    select = ("columns", Columns(names))
    # ``ease`` is a logistic regression too: smooth in EASE's score, so EASE's order is not
    # cut into the ties of tree leaves (inner NDCG@10 0.1144 against 0.1138 with trees).
    if ranker in {"logistic", "ease"}:
        return Pipeline(
            [
                select,
                # keep_empty_features: a column with no values at all (links only) is
                # kept as zeros, not dropped with a warning.
                (
                    "impute",
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                ),
                ("scale", StandardScaler()),
                ("model", LogisticRegression(C=1.0, max_iter=2000)),
            ]
        )
    constraints = [_MONOTONIC.get(name, 0) for name in names]
    if ranker == "lgbm_rank":
        # Fitted with the query of each row (``model__query``, see ``query_ids``): the order
        # within a buyer's candidates is what it learns.
        return Pipeline(
            [
                select,
                (
                    "model",
                    LambdaRanker(
                        monotone_constraints=constraints, random_state=settings.random_state
                    ),
                ),
            ]
        )
    return Pipeline(
        [
            select,
            ("fill", FillAllMissing()),
            (
                "model",
                HistGradientBoostingClassifier(
                    learning_rate=0.06,
                    # Few pairs cannot support many trees; fewer also keep small fits quick.
                    max_iter=250 if n_samples >= 5_000 and len(names) > 4 else 60,
                    max_leaf_nodes=31,
                    min_samples_leaf=40,
                    l2_regularization=1.0,
                    monotonic_cst=constraints,
                    random_state=settings.random_state,
                ),
            ),
        ]
    )
