"""The matcher: a scikit-learn style estimator that recommends new supplier-buyer links.

``Matcher(settings).fit(dataset)`` learns a scorer from the dataset's links (see
:mod:`matcher._training` for how leakage is avoided) and binds the dataset for serving;
``recommend``, ``suggest_buyers``, ``chain``, ``explain`` and ``match_list`` answer from it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ketnoi import graph
from ketnoi.matcher._features import (
    FEATURES,
    BatchSignals,
    batch_size,
    candidate_pairs,
    pair_features,
)
from ketnoi.matcher._index import FirmIndex, LinkSnapshot, build_snapshot
from ketnoi.matcher._reasons import LANGUAGES, pair_reasons
from ketnoi.matcher._settings import MatcherSettings
from ketnoi.matcher._training import training_set

__all__ = [
    "Matcher",
    "ModelFileError",
    "RECOMMENDATION_COLUMNS",
    "PRIOR_WEIGHTS",
    "load_matcher",
    "ketnoi_version",
]

#: The first columns of every recommendation frame, in this order.
RECOMMENDATION_COLUMNS = [
    "buyer_id",
    "supplier_id",
    "category_id",
    "tier",
    "rank",
    "score",
    "reasons",
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
    "fit_level": 1,
    "required_certs_met": 1,
    "required_processes_met": 1,
    "outcome_good": 1,
    "outcome_declined": -1,
}

_FORMAT = "ketnoi-matcher/1"


class ModelFileError(ValueError):
    """A model file that cannot be used with this ketnoi (other version, other features)."""


def ketnoi_version() -> str:
    """The installed ketnoi version."""
    try:
        return version("ketnoi")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0+unknown"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _prior_terms(features: pd.DataFrame) -> pd.DataFrame:
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
    return _sigmoid(PRIOR_INTERCEPT + _prior_terms(features).sum(axis=1).to_numpy())


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


def _make_pipeline(settings: MatcherSettings, n_samples: int) -> Pipeline:
    if settings.model == "logistic":
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                ("scale", StandardScaler()),
                ("model", LogisticRegression(C=1.0, max_iter=2000)),
            ]
        )
    constraints = [_MONOTONIC.get(name, 0) for name in FEATURES]
    return Pipeline(
        [
            ("fill", FillAllMissing()),
            (
                "model",
                HistGradientBoostingClassifier(
                    learning_rate=0.06,
                    # Few pairs cannot support many trees; fewer also keep small fits quick.
                    max_iter=250 if n_samples >= 5_000 else 60,
                    max_leaf_nodes=31,
                    min_samples_leaf=40,
                    l2_regularization=1.0,
                    monotonic_cst=constraints,
                    random_state=settings.random_state,
                ),
            ),
        ]
    )


class Matcher:
    """Learned, explained, tiered supplier recommendations.

    Parameters
    ----------
    settings : MatcherSettings, optional
        Candidate, hard-rule and training settings; the defaults when omitted.

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline or None
        The fitted scorer; None where the rule-based prior ranks (too few links).
    mode_ : {"learned", "prior"}
    feature_names_ : list of str
    negative_rate_ : float
        Sampled negatives over candidate negatives: the prior correction that turns the
        classifier's odds into odds among candidates.
    reference_ : Series
        The reference feature values explanations measure contributions against.
    index_, snapshot_, dataset_
        The bound dataset (set by ``fit`` or ``bind``).

    Examples
    --------
    >>> from ketnoi import graph
    >>> from pathlib import Path
    >>> tiny = graph.load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> matcher = Matcher().fit(tiny)
    >>> list(matcher.recommend("B1", k=2).columns[:7])
    ['buyer_id', 'supplier_id', 'category_id', 'tier', 'rank', 'score', 'reasons']
    """

    def __init__(self, settings: MatcherSettings | None = None):
        self.settings = settings

    # -- fitting --------------------------------------------------------------------------------
    @property
    def settings_(self) -> MatcherSettings:
        return self.settings if self.settings is not None else MatcherSettings()

    def fit(self, dataset: graph.Dataset) -> Matcher:
        """Learn the scorer from ``dataset``'s links and bind ``dataset`` for serving."""
        settings = self.settings_
        index = FirmIndex.from_dataset(dataset)
        train = training_set(index, dataset, settings)
        labels = train.labels
        if train.n_positives >= settings.min_positives and 0 < labels.mean() < 1:
            pipeline = _make_pipeline(settings, len(labels))
            # One OpenMP thread: on a shared 2-core machine (a service retraining while it
            # serves) busy-waiting threads cost far more than the second core gains.
            with threadpool_limits(limits=1, user_api="openmp"):
                pipeline.fit(train.features, labels)
            self.pipeline_: Pipeline | None = pipeline
            self.mode_ = "learned"
            self.negative_rate_ = train.negative_rate
            self.reference_ = train.features[labels == 0].median().fillna(0.0)
        else:
            self.pipeline_ = None
            self.mode_ = "prior"
            self.negative_rate_ = 1.0
            self.reference_ = pd.Series(0.0, index=list(FEATURES))
        self.feature_names_ = list(FEATURES)
        self.n_training_pairs_ = len(labels)
        self.n_positives_ = train.n_positives
        self.trained_at_ = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.version_ = ketnoi_version()
        self.training_fingerprint_ = dataset.fingerprint()
        self.metrics_: dict[str, Any] = {}
        self._bind(dataset, index, self.training_fingerprint_)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "mode_"):
            raise NotFittedError(
                "This Matcher is not fitted yet: call fit(dataset) or load a model file first."
            )

    def _check_bound(self) -> None:
        self._check_fitted()
        if not hasattr(self, "index_"):
            raise NotFittedError("This Matcher has no dataset bound: call bind(dataset) first.")

    def bind(self, dataset: graph.Dataset) -> Matcher:
        """Serve recommendations on ``dataset`` with the fitted scorer (no refitting).

        A dataset other than the training one is allowed (new firms are scored from the
        current data), with a warning.
        """
        self._check_fitted()
        fingerprint = dataset.fingerprint()
        if fingerprint != self.training_fingerprint_:
            warnings.warn(
                "the data differ from the data this model was trained on; current firms and "
                "links are scored with the trained model (retrain to learn from the changes)",
                stacklevel=2,
            )
        self._bind(dataset, FirmIndex.from_dataset(dataset), fingerprint)
        return self

    def _bind(self, dataset: graph.Dataset, index: FirmIndex, fingerprint: str) -> None:
        self.dataset_ = dataset
        self.index_ = index
        self.snapshot_: LinkSnapshot = build_snapshot(index, dataset.links, dataset.outcomes)
        self.data_fingerprint_ = fingerprint
        self.rankings_: dict[int, dict[str, Any]] = {}
        order = np.argsort(index.supplier_ids.to_numpy().astype(str), kind="stable")
        self._supplier_order = np.empty(len(order), dtype=np.int64)
        self._supplier_order[order] = np.arange(len(order))

    # -- scoring --------------------------------------------------------------------------------
    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        """Scores in [0, 1] for a frame of pair features (higher = more likely to work)."""
        self._check_fitted()
        if len(features) == 0:
            return np.zeros(0)
        if self.pipeline_ is None:
            return prior_score(features)
        X = features[self.feature_names_]
        if len(X) < 20_000:
            # Small batches: OpenMP start-up and contention cost more than the trees themselves.
            with threadpool_limits(limits=1, user_api="openmp"):
                proba = self.pipeline_.predict_proba(X)[:, 1]
        else:
            proba = self.pipeline_.predict_proba(X)[:, 1]
        # Negatives were subsampled; shifting the log-odds by log(rate) gives the odds among
        # all candidates, so a score reads as "how likely among the candidates".
        return _sigmoid(_logit(proba) + np.log(self.negative_rate_))

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Each feature's contribution to each pair's log-odds.

        For the learned scorer, the change in log-odds when that one feature is set back to its
        reference value (the median of training negatives); for the prior, weight times value.
        """
        self._check_fitted()
        if self.pipeline_ is None:
            return _prior_terms(features).reindex(columns=self.feature_names_, fill_value=0.0)
        base = _logit(self.score_features(features))
        out = {}
        for name in self.feature_names_:
            moved = features.copy()
            moved[name] = self.reference_[name]
            out[name] = base - _logit(self.score_features(moved))
        return pd.DataFrame(out, index=features.index)

    def _hard_ok(self, features: pd.DataFrame) -> np.ndarray:
        s = self.settings_
        ok = np.ones(len(features), dtype=bool)
        if s.require_certifications == "hard":
            ok &= features["required_certs_met"].to_numpy() >= 1.0
        if s.require_processes == "hard":
            ok &= features["required_processes_met"].to_numpy() >= 1.0
        if s.require_capacity == "hard":
            ok &= ~(features["capacity_ratio"].to_numpy() < 0)
        if s.max_distance_km is not None:
            ok &= ~(features["distance_km"].to_numpy() > s.max_distance_km)
        return ok

    def _rank_batch(self, buyers: np.ndarray, *, exclude_existing: bool = True) -> pd.DataFrame:
        """Scored candidates of a batch of buyers: one row per pair, features included."""
        index, snap = self.index_, self.snapshot_
        signals = BatchSignals.compute(index, snap, buyers)
        cb, cs, _ = candidate_pairs(
            index,
            snap,
            signals,
            max_candidates=self.settings_.max_candidates,
            exclude_existing=exclude_existing,
        )
        features, facts = pair_features(index, snap, signals, cb, cs)
        keep = self._hard_ok(features)
        features, facts = features[keep].reset_index(drop=True), facts[keep].reset_index(drop=True)
        frame = pd.concat([features, facts], axis=1)
        frame.insert(0, "buyer", cb[keep])
        frame.insert(1, "supplier", cs[keep])
        frame.insert(2, "score", self.score_features(features))
        return frame

    def _ranked(self, buyers: np.ndarray, exclude_existing: bool = True) -> pd.DataFrame:
        step = batch_size(self.index_.n_buyers)
        parts = [
            self._rank_batch(buyers[i : i + step], exclude_existing=exclude_existing)
            for i in range(0, len(buyers), step)
        ]
        if not parts:
            return self._rank_batch(np.zeros(0, dtype=np.int64))
        frame = pd.concat(parts, ignore_index=True)
        frame["_order"] = self._supplier_order[frame["supplier"].to_numpy()]
        frame = frame.sort_values(["buyer", "score", "_order"], ascending=[True, False, True])
        frame["rank"] = frame.groupby("buyer").cumcount() + 1
        return frame.drop(columns="_order").reset_index(drop=True)

    # -- output ---------------------------------------------------------------------------------
    def _category_of(self, demand_rows: np.ndarray, fit: np.ndarray) -> np.ndarray:
        rows = self.index_.demand_rows
        out = np.full(len(demand_rows), "", dtype=object)
        ok = (demand_rows >= 0) & (fit > 0)
        if ok.any():
            cats = rows["category"].to_numpy()[demand_rows[ok]]
            out[ok] = self.index_.category_ids.to_numpy()[cats]
        return out

    def _reasons(self, ranked: pd.DataFrame, lang: str) -> list[list[str]]:
        index, offers = self.index_, self.snapshot_.offers
        links, active = self.snapshot_.links, self.snapshot_.active
        records = ranked[list(FEATURES)].to_dict("records")
        out = []
        for rec, b, s, d, shared in zip(
            records,
            ranked["buyer"].to_numpy(),
            ranked["supplier"].to_numpy(),
            ranked["demand_row"].to_numpy(),
            ranked["shared_buyers"].to_numpy(),
            strict=True,
        ):
            out.append(
                pair_reasons(
                    index,
                    rec,
                    buyer=int(b),
                    supplier=int(s),
                    demand_row=int(d),
                    shared_buyers=float(shared),
                    offers=offers.indices[offers.indptr[s] : offers.indptr[s + 1]],
                    past_link=bool(links[b, s] > 0 and not active[b, s] > 0),
                    lang=lang,
                )
            )
        return out

    def _to_frame(self, ranked: pd.DataFrame, lang: str, tier: int = 1) -> pd.DataFrame:
        index = self.index_
        names = index.firms["name"]
        buyer_ids = index.buyer_ids.to_numpy()[ranked["buyer"].to_numpy()]
        supplier_ids = index.supplier_ids.to_numpy()[ranked["supplier"].to_numpy()]
        frame = pd.DataFrame(
            {
                "buyer_id": pd.Series(buyer_ids, dtype=object),
                "supplier_id": pd.Series(supplier_ids, dtype=object),
                "category_id": self._category_of(
                    ranked["demand_row"].to_numpy(), ranked["fit_level"].to_numpy()
                ),
                "tier": np.full(len(ranked), tier, dtype=np.int64),
                "rank": ranked["rank"].to_numpy(dtype=np.int64),
                "score": ranked["score"].to_numpy(dtype=float).round(6),
                "reasons": pd.Series(self._reasons(ranked, lang), dtype=object),
                "buyer_name": names.reindex(buyer_ids).to_numpy(dtype=object),
                "supplier_name": names.reindex(supplier_ids).to_numpy(dtype=object),
                "supplier_park": index.supplier_park[ranked["supplier"].to_numpy()],
            }
        )
        return frame

    def _buyer_pos(self, buyer_id: str) -> int:
        try:
            return self.index_.buyer_index(buyer_id)
        except KeyError as exc:
            raise KeyError(str(exc.args[0])) from None

    def _filter(
        self,
        ranked: pd.DataFrame,
        category: str | None,
        park: str | None,
        certification: str | None,
    ) -> pd.DataFrame:
        index = self.index_
        mask = np.ones(len(ranked), dtype=bool)
        sup = ranked["supplier"].to_numpy()
        if category:
            pos = index.category_ids.get_indexer([category])[0]
            if pos < 0:
                raise KeyError(f"'{category}' is not a category_id in the data")
            # A category filter keeps suppliers of the category or of its sub-categories.
            wanted = {pos} | {c for c in range(index.n_categories) if self._descends(c, pos)}
            offers = self.snapshot_.offers
            mask &= np.array(
                [
                    bool(
                        wanted.intersection(offers.indices[offers.indptr[s] : offers.indptr[s + 1]])
                    )
                    for s in sup
                ],
                dtype=bool,
            )
        if park:
            mask &= index.supplier_park[sup] == park
        if certification:
            wanted_cert = graph.normalise_certification(certification)
            certs = index.firms["certifications"].to_numpy()[index.supplier_firm[sup]]
            mask &= np.array([wanted_cert in c for c in certs], dtype=bool)
        out = ranked[mask].copy()
        out["rank"] = out.groupby("buyer").cumcount() + 1
        return out

    def _descends(self, child: int, ancestor: int) -> bool:
        parent = self.index_.parent
        node, seen = int(parent[child]), 0
        while node >= 0 and seen < 64:
            if node == ancestor:
                return True
            node, seen = int(parent[node]), seen + 1
        return False

    # -- public queries -------------------------------------------------------------------------
    def recommend(
        self,
        buyer_id: str,
        k: int = 10,
        *,
        exclude_existing: bool = True,
        category: str | None = None,
        park: str | None = None,
        certification: str | None = None,
        tier: int = 1,
        lang: str = "en",
    ) -> pd.DataFrame:
        """The top-``k`` new suppliers for a buyer, best first, with reasons.

        Parameters
        ----------
        buyer_id : str
        k : int
            At most this many rows; fewer where there are fewer candidates.
        exclude_existing : bool
            Leave out suppliers with an active link to the buyer (in any category).
        category, park, certification : str, optional
            Keep suppliers of that category (or a sub-category), in that park, holding that
            certification.
        tier : int
            1 for direct suppliers; 2 and more for suppliers of the buyer's Tier-1 firms
            (existing or recommended), from :meth:`chain`.
        lang : {"en", "vi"}

        Returns
        -------
        DataFrame
            :data:`RECOMMENDATION_COLUMNS` first, then names and the supplier's park.
        """
        self._check_bound()
        if k < 1:
            raise ValueError("k must be at least 1")
        if lang not in LANGUAGES:
            raise ValueError(f"lang must be one of {LANGUAGES}")
        if tier < 1:
            raise ValueError("tier must be at least 1")
        if tier > 1:
            chain = self.chain(buyer_id, depth=tier, k=k, lang=lang)
            rows = chain[(chain["tier"] == tier) & ~chain["existing"]]
            return rows.sort_values(["score"], ascending=False).head(k).reset_index(drop=True)
        b = self._buyer_pos(buyer_id)
        cached = self.rankings_.get(b) if exclude_existing else None
        if cached is not None:
            if not (category or park or certification):
                if cached["complete"] or len(cached["ranked"]) >= k:
                    return self._cached_rows(b, cached, k, lang)
            else:
                filtered = self._filter(cached["ranked"], category, park, certification)
                if cached["complete"] or len(filtered) >= k:
                    return self._to_frame(filtered.head(k), lang)
        ranked = self._ranked(np.array([b]), exclude_existing=exclude_existing)
        ranked = self._filter(ranked, category, park, certification)
        return self._to_frame(ranked.head(k), lang)

    def _cached_rows(self, b: int, cached: dict[str, Any], k: int, lang: str) -> pd.DataFrame:
        key = f"frame_{lang}"
        if key not in cached:
            cached[key] = self._to_frame(cached["ranked"], lang)
        frame: pd.DataFrame = cached[key]
        return frame.iloc[:k]

    def precompute(
        self,
        buyer_ids: Sequence[str] | None = None,
        *,
        languages: Sequence[str] = ("en",),
        progress: Callable[[int, int], None] | None = None,
    ) -> Matcher:
        """Rank buyers once and keep the top rows in memory, so requests do not rescan.

        Parameters
        ----------
        buyer_ids : sequence of str, optional
            Default: every buyer that demands something or has suppliers.
        languages : sequence of {"en", "vi"}
            The answer frames (names, reasons) are built now for these languages, so a
            request only slices them; other languages are built on first use.
        progress : callable, optional
            Called with (done, total) after each batch.
        """
        self._check_bound()
        buyers = (
            self._active_buyers()
            if buyer_ids is None
            else np.array([self._buyer_pos(b) for b in buyer_ids], dtype=np.int64)
        )
        keep = self.settings_.precompute_k
        step = batch_size(self.index_.n_buyers)
        for start in range(0, len(buyers), step):
            batch = buyers[start : start + step]
            ranked = self._ranked(batch)
            counts = ranked.groupby("buyer").size()
            top = ranked[ranked["rank"] <= keep].reset_index(drop=True)
            frames = {lang: self._to_frame(top, lang) for lang in languages}
            for b, rows in top.groupby("buyer").indices.items():
                entry: dict[str, Any] = {
                    "ranked": top.iloc[rows].reset_index(drop=True),
                    "complete": int(counts.get(b, 0)) <= keep,
                }
                for lang, frame in frames.items():
                    entry[f"frame_{lang}"] = frame.iloc[rows].reset_index(drop=True)
                self.rankings_[int(b)] = entry
            for b in batch:
                self.rankings_.setdefault(int(b), {"ranked": ranked.iloc[:0], "complete": True})
            if progress is not None:
                progress(min(start + step, len(buyers)), len(buyers))
        return self

    def _active_buyers(self) -> np.ndarray:
        """Buyers that demand something or have suppliers: the ones a match list covers."""
        index, snap = self.index_, self.snapshot_
        demands = np.asarray(index.explicit_demand.sum(axis=1)).ravel() > 0
        return np.flatnonzero(demands | (snap.buyer_degree > 0)).astype(np.int64)

    def match_list(
        self,
        buyer_ids: Sequence[str] | None = None,
        k: int = 10,
        *,
        lang: str = "en",
        progress: Callable[[int, int], None] | None = None,
    ) -> pd.DataFrame:
        """Top-``k`` new suppliers for many buyers at once (default: every active buyer)."""
        self._check_bound()
        buyers = (
            self._active_buyers()
            if buyer_ids is None
            else np.array([self._buyer_pos(b) for b in buyer_ids], dtype=np.int64)
        )
        frames = []
        step = batch_size(self.index_.n_buyers)
        for start in range(0, len(buyers), step):
            ranked = self._ranked(buyers[start : start + step])
            frames.append(self._to_frame(ranked[ranked["rank"] <= k], lang))
            if progress is not None:
                progress(min(start + step, len(buyers)), len(buyers))
        if not frames:
            return self._to_frame(self._ranked(np.zeros(0, dtype=np.int64)), lang)
        return pd.concat(frames, ignore_index=True)

    def suggest_buyers(self, supplier_id: str, k: int = 10, *, lang: str = "en") -> pd.DataFrame:
        """Buyers a supplier should approach, best first, with reasons (same scorer)."""
        self._check_bound()
        index, snap = self.index_, self.snapshot_
        s = index.supplier_index(supplier_id)
        offers = snap.offers[s]
        exact = np.asarray((snap.needs @ offers.T).todense()).ravel()
        related = np.asarray((snap.needs @ (offers @ index.related).T).todense()).ravel()
        col = snap.links[:, s]
        l3 = np.asarray((snap.links @ (snap.links.T @ col)).todense()).ravel()
        pre = 3.0 * (exact > 0) + 1.5 * ((related > 0) & (exact <= 0)) + np.log1p(l3)
        listed = index.firms["listed"].to_numpy()[index.buyer_firm]
        own = index.buyer_ids.to_numpy() == supplier_id
        active = np.asarray(snap.active[:, s].todense()).ravel() > 0
        ok = (pre > 0) & listed & ~own & ~active
        buyers = np.flatnonzero(ok)
        if len(buyers) > self.settings_.max_candidates:
            buyers = buyers[
                np.argsort(-pre[buyers], kind="stable")[: self.settings_.max_candidates]
            ]
        frames = []
        step = batch_size(index.n_buyers)
        for start in range(0, len(buyers), step):
            batch = buyers[start : start + step]
            signals = BatchSignals.compute(index, snap, batch)
            sup = np.full(len(batch), s, dtype=np.int64)
            features, facts = pair_features(index, snap, signals, batch, sup)
            keep = self._hard_ok(features)
            part = pd.concat([features, facts], axis=1)[keep]
            part.insert(0, "buyer", batch[keep])
            part.insert(1, "supplier", sup[keep])
            part.insert(2, "score", self.score_features(features[keep]))
            frames.append(part)
        ranked = (
            pd.concat(frames, ignore_index=True)
            if frames
            else self._ranked(np.zeros(0, dtype=np.int64))
        )
        ranked["_id"] = index.buyer_ids.to_numpy()[ranked["buyer"].to_numpy()]
        ranked = ranked.sort_values(["score", "_id"], ascending=[False, True]).head(k)
        ranked = ranked.drop(columns="_id").reset_index(drop=True)
        ranked["rank"] = np.arange(1, len(ranked) + 1)
        return self._to_frame(ranked, lang)

    def chain(self, buyer_id: str, depth: int = 3, k: int = 5, *, lang: str = "en") -> pd.DataFrame:
        """The tiered supply chain upstream of a buyer: existing and recommended suppliers.

        The existing chain comes first: Tier-1 are the buyer's active suppliers, Tier-2 their
        active suppliers, and so on (shortest distance, cycles cut). Then, tier by tier, each
        firm of the tier above that buys (the root, then Tier-1 firms of role both, existing or
        recommended) gets its top-``k`` new suppliers for its own demands and bill-of-material
        inputs. A firm appears once, at its lowest tier, under one parent.

        Returns
        -------
        DataFrame
            :data:`RECOMMENDATION_COLUMNS`, then ``parent_id`` (the firm it supplies or would
            supply), ``existing`` (an active link already) and names. ``tier`` is relative to
            the root; ``rank`` and ``score`` are empty for existing links.
        """
        self._check_bound()
        if depth < 1:
            raise ValueError("depth must be at least 1")
        if not 1 <= k <= 100:
            raise ValueError("k must be between 1 and 100")
        index, snap = self.index_, self.snapshot_
        self._buyer_pos(buyer_id)
        existing_note = (
            "an existing supplier (active link)" if lang == "en" else "nhà cung cấp hiện tại"
        )
        seen = {buyer_id}
        rows: list[pd.DataFrame] = []
        tier_of: dict[str, int] = {}
        frontier = [buyer_id]
        for tier in range(1, depth + 1):
            found: list[dict[str, Any]] = []
            for parent_id in frontier:
                pos = index.buyer_ids.get_indexer([parent_id])[0]
                if pos < 0:
                    continue
                active = snap.active.indices[snap.active.indptr[pos] : snap.active.indptr[pos + 1]]
                for supplier_id in sorted(index.supplier_ids.to_numpy()[active]):
                    if supplier_id not in seen:
                        seen.add(supplier_id)
                        tier_of[supplier_id] = tier
                        found.append(
                            {"supplier_id": supplier_id, "parent_id": parent_id, "tier": tier}
                        )
            if found:
                block = pd.DataFrame(found)
                rows.append(
                    block.assign(
                        buyer_id=buyer_id,
                        category_id="",
                        rank=pd.NA,
                        score=np.nan,
                        reasons=[[existing_note] for _ in range(len(block))],
                        existing=True,
                    )
                )
            frontier = [f["supplier_id"] for f in found]
        # Recommendations, tier by tier, for the root and for every buying firm in the tree.
        parents = [buyer_id]
        for tier in range(1, depth + 1):
            positions = index.buyer_ids.get_indexer(parents)
            buying = positions[positions >= 0]
            next_parents = [f for f, t in tier_of.items() if t == tier]
            if len(buying):
                ranked = self._ranked(np.unique(buying))
                frame = self._to_frame(ranked, lang, tier=tier)
                frame = frame[~frame["supplier_id"].isin(seen)]
                frame = frame.groupby("buyer_id", sort=False).head(k).copy()
                frame = frame.drop_duplicates("supplier_id")
                frame["rank"] = frame.groupby("buyer_id").cumcount() + 1
                seen.update(frame["supplier_id"])
                frame["parent_id"] = frame["buyer_id"]
                frame["buyer_id"] = buyer_id
                frame["existing"] = False
                rows.append(frame)
                next_parents += list(frame["supplier_id"])
            parents = next_parents[:200]
            if not parents:
                break
        columns = [*RECOMMENDATION_COLUMNS, "parent_id", "existing"]
        if not rows:
            return pd.DataFrame(columns=[*columns, "supplier_name", "parent_name"])
        out = pd.concat([r[columns] for r in rows], ignore_index=True)
        out = out.sort_values(
            ["tier", "existing", "parent_id", "rank"],
            ascending=[True, False, True, True],
            kind="stable",
        )
        names = index.firms["name"]
        out["supplier_name"] = names.reindex(out["supplier_id"]).to_numpy()
        out["parent_name"] = names.reindex(out["parent_id"]).to_numpy()
        return out.reset_index(drop=True)

    def explain(self, supplier_id: str, buyer_id: str, *, lang: str = "en") -> dict[str, Any]:
        """Why (or why not yet) a pair: score, each feature's contribution, what blocks it.

        Works for any supplier-buyer pair, recommended or not, so a programme can see what a
        supplier lacks for a buyer (a certification, a process, capacity, category fit).
        """
        self._check_bound()
        index, snap = self.index_, self.snapshot_
        s = index.supplier_index(supplier_id)
        b = self._buyer_pos(buyer_id)
        signals = BatchSignals.compute(index, snap, np.array([b]))
        features, facts = pair_features(index, snap, signals, np.array([b]), np.array([s]))
        score = float(self.score_features(features)[0])
        contrib = self.contributions(features).iloc[0]
        cb, cs, _ = candidate_pairs(
            index,
            snap,
            signals,
            max_candidates=self.settings_.max_candidates,
            exclude_existing=False,
        )
        feats = features.iloc[0]
        ranked = pd.concat([features, facts], axis=1)
        ranked.insert(0, "buyer", [b])
        ranked.insert(1, "supplier", [s])
        reasons = self._reasons(ranked, lang)[0]
        return {
            "buyer_id": buyer_id,
            "supplier_id": supplier_id,
            "score": round(score, 6),
            "mode": self.mode_,
            "category_id": str(
                self._category_of(facts["demand_row"].to_numpy(), features["fit_level"].to_numpy())[
                    0
                ]
            ),
            "existing_link": bool(snap.active[b, s] > 0),
            "candidate": bool((cs == s).any()),
            "reasons": reasons,
            "blockers": self._blockers(b, s, feats, int(facts["demand_row"].iloc[0])),
            "contributions": [
                {
                    "feature": name,
                    "value": _plain(feats[name]),
                    "contribution": round(float(contrib[name]), 4),
                }
                for name in sorted(self.feature_names_, key=lambda n: -abs(float(contrib[n])))
            ],
        }

    def _blockers(self, b: int, s: int, feats: pd.Series, demand_row: int) -> list[str]:
        index, snap = self.index_, self.snapshot_
        out = []
        firm = index.firms.iloc[index.supplier_firm[s]]
        if not bool(firm["listed"]):
            out.append("the supplier is unlisted (listed=false): it is never recommended")
        if snap.active[b, s] > 0:
            out.append("already an active supplier of this buyer")
        if index.buyer_ids[b] == index.supplier_ids[s]:
            out.append("a firm cannot supply itself")
        if index.has_profiles and feats["fit_level"] <= 0:
            out.append("no category fit: makes nothing the buyer demands or needs")
        if demand_row >= 0 and feats["fit_level"] > 0:
            dem = index.demand_rows.iloc[demand_row]
            missing_c = [
                c for c in dem["required_certifications"] if c not in set(firm["certifications"])
            ]
            if missing_c:
                out.append(f"lacks {', '.join(missing_c)}, which the buyer requires")
            missing_p = [p for p in dem["required_processes"] if p not in set(firm["processes"])]
            if missing_p:
                out.append(
                    f"lacks the process(es) {', '.join(missing_p)}, which the buyer requires"
                )
            ratio = feats["capacity_ratio"]
            if not pd.isna(ratio) and ratio < 0:
                volume = float(dem["volume"])
                capacity = volume * 10**ratio
                out.append(f"capacity short: {capacity:,.0f}/yr against {volume:,.0f}/yr demanded")
        limit = self.settings_.max_distance_km
        if limit is not None and feats["distance_km"] > limit:
            out.append(f"{feats['distance_km']:.0f} km away, beyond the {limit:g} km limit")
        if feats["outcome_declined"] > 0:
            out.append("declined in an earlier outcome")
        return out

    # -- evaluation protocol ----------------------------------------------------------------------
    @property
    def supplier_ids_(self) -> pd.Index:
        self._check_bound()
        return self.index_.supplier_ids

    def score_buyers(self, buyer_ids: Sequence[str]) -> np.ndarray:
        """Scores over every supplier for each buyer: candidates in [0, 1], the rest below 0.

        Non-candidates are ordered among themselves by popularity, so every supplier is ranked.
        """
        self._check_bound()
        snap = self.snapshot_
        buyers = np.array([self._buyer_pos(b) for b in buyer_ids], dtype=np.int64)
        pop = np.log1p(snap.supplier_degree)
        pop = pop / pop.max() if pop.max() > 0 else pop
        out = np.tile(-1.0 + 1e-3 * pop, (len(buyers), 1))
        if len(buyers) == 0:
            return out
        unique, inverse = np.unique(buyers, return_inverse=True)
        ranked = self._ranked(unique)
        rows = np.searchsorted(unique, ranked["buyer"].to_numpy())
        block = np.tile(-1.0 + 1e-3 * pop, (len(unique), 1))
        block[rows, ranked["supplier"].to_numpy()] = ranked["score"].to_numpy()
        return block[inverse]

    def candidates(self, buyer_ids: Sequence[str]) -> pd.DataFrame:
        """The candidate pairs of the given buyers (before scoring and hard rules)."""
        self._check_bound()
        index, snap = self.index_, self.snapshot_
        buyers = np.unique(np.array([self._buyer_pos(b) for b in buyer_ids], dtype=np.int64))
        parts = []
        step = batch_size(index.n_buyers)
        for start in range(0, len(buyers), step):
            batch = buyers[start : start + step]
            signals = BatchSignals.compute(index, snap, batch)
            cb, cs, _ = candidate_pairs(
                index, snap, signals, max_candidates=self.settings_.max_candidates
            )
            parts.append(
                pd.DataFrame(
                    {
                        "buyer_id": index.buyer_ids.to_numpy()[cb],
                        "supplier_id": index.supplier_ids.to_numpy()[cs],
                    }
                )
            )
        if not parts:
            return pd.DataFrame({"buyer_id": [], "supplier_id": []}, dtype=object)
        return pd.concat(parts, ignore_index=True)

    # -- persistence ----------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the fitted scorer (not the data) to ``path`` with joblib.

        Model files are pickles: loading one runs code. Load only files you made.
        """
        self._check_fitted()
        path = Path(path)
        payload = {
            "format": _FORMAT,
            "version": self.version_,
            "features": self.feature_names_,
            "settings": dataclasses.asdict(self.settings_),
            "pipeline": self.pipeline_,
            "mode": self.mode_,
            "negative_rate": self.negative_rate_,
            "reference": self.reference_,
            "trained_at": self.trained_at_,
            "training_fingerprint": self.training_fingerprint_,
            "n_training_pairs": self.n_training_pairs_,
            "n_positives": self.n_positives_,
            "metrics": self.metrics_,
        }
        joblib.dump(payload, path)
        return path


def _plain(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else round(float(value), 4)
    return value


def load_matcher(path: str | Path, dataset: graph.Dataset | None = None) -> Matcher:
    """Load a model file written by :meth:`Matcher.save` and bind ``dataset`` to it.

    Raises
    ------
    ModelFileError
        The file is not a ketnoi model, or was made by another ketnoi version or with another
        feature list.
    """
    path = Path(path)
    try:
        payload = joblib.load(path)
    except Exception as exc:  # joblib/pickle raise many kinds for a foreign file
        raise ModelFileError(f"{path}: not a readable ketnoi model file ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ModelFileError(f"{path}: not a ketnoi model file")
    if payload["version"] != ketnoi_version():
        raise ModelFileError(
            f"{path}: made by ketnoi {payload['version']}, this is ketnoi {ketnoi_version()}; "
            "retrain with `ketnoi train`"
        )
    if list(payload["features"]) != list(FEATURES):
        raise ModelFileError(
            f"{path}: its feature list differs from this ketnoi's; retrain with `ketnoi train`"
        )
    matcher = Matcher(MatcherSettings(**payload["settings"]))
    matcher.pipeline_ = payload["pipeline"]
    matcher.mode_ = payload["mode"]
    matcher.negative_rate_ = payload["negative_rate"]
    matcher.reference_ = payload["reference"]
    matcher.feature_names_ = list(payload["features"])
    matcher.trained_at_ = payload["trained_at"]
    matcher.version_ = payload["version"]
    matcher.training_fingerprint_ = payload["training_fingerprint"]
    matcher.n_training_pairs_ = payload["n_training_pairs"]
    matcher.n_positives_ = payload["n_positives"]
    matcher.metrics_ = payload.get("metrics", {})
    if dataset is not None:
        matcher.bind(dataset)
    return matcher
