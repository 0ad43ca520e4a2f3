"""The matcher: a scikit-learn style estimator that recommends new supplier-buyer links.

``Matcher(settings).fit(dataset)`` learns a scorer from the dataset's links (see
:mod:`matcher._training` for how leakage is avoided) and binds the dataset for serving;
``recommend``, ``suggest_buyers``, ``chain``, ``explain`` and ``match_list`` answer from it.

One model, a component per job (as splink's linker): every question runs the one ranking path
of :mod:`matcher._ranking` (candidates -> features -> hard rules -> score); explanations live
in :mod:`matcher._explain`, supply chains in :mod:`matcher._chain`, model files in
:mod:`matcher._persist`. The Matcher keeps fitting, the serving cache and the queries.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from ketnoi import graph
from ketnoi.graph._version import ketnoi_version
from ketnoi.matcher._chain import supply_chain
from ketnoi.matcher._explain import explain_pair
from ketnoi.matcher._features import FEATURES
from ketnoi.matcher._index import FirmIndex, LinkSnapshot, build_snapshot, with_ease, with_rp3
from ketnoi.matcher._lambdarank import lightgbm_available
from ketnoi.matcher._peers import choose_ease_l2
from ketnoi.matcher._ranking import RECOMMENDATION_COLUMNS, RankingPath
from ketnoi.matcher._reasons import LANGUAGES
from ketnoi.matcher._scorer import learned_score, logit, prior_score, prior_terms
from ketnoi.matcher._selection import fit_params, make_ranker, platt_scaling, select_ranker
from ketnoi.matcher._settings import AUTO_RANKERS, RANKERS, MatcherSettings
from ketnoi.matcher._training import TrainingSet, training_set

__all__ = ["Matcher", "RECOMMENDATION_COLUMNS"]


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
    ranking_ : RankingPath
        Candidates, features, hard rules and scores on the bound dataset.

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
        self.ease_l2_, self.ease_validation_ = self._choose_ease(index, dataset)
        train = training_set(index, dataset, settings, self.ease_l2_)
        labels = train.labels
        if train.n_positives >= settings.min_positives and 0 < labels.mean() < 1:
            self.ranker_, self.selection_, self.calibration_ = self._choose_ranker(train)
            pipeline = make_ranker(settings, len(labels), self.ranker_, self.selection_)
            # One OpenMP thread: on a shared 2-core machine (a service retraining while it
            # serves) busy-waiting threads cost far more than the second core gains.
            with threadpool_limits(limits=1, user_api="openmp"):
                pipeline.fit(train.features, labels, **fit_params(self.ranker_, train.queries))
            self.pipeline_: Pipeline | None = pipeline
            self.mode_ = "learned"
            self.negative_rate_ = train.negative_rate
            self.reference_ = train.features[labels == 0].median().fillna(0.0)
        else:
            self.pipeline_ = None
            self.ranker_, self.selection_, self.calibration_ = "prior", [], None
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

    def _choose_ease(
        self, index: FirmIndex, dataset: graph.Dataset
    ) -> tuple[float | None, list[dict[str, float]]]:
        """EASE's ridge penalty (None where collaborative signals are off or cannot learn)."""
        settings = self.settings_
        if not settings.collaborative:
            return None, []
        if settings.ease_l2 is not None:
            return float(settings.ease_l2), []
        links = build_snapshot(index, dataset.links).links
        if links.nnz < settings.min_positives:
            return None, []
        l2, table = choose_ease_l2(
            links, settings.ease_max_side, max_buyers=500, seed=settings.random_state
        )
        return l2, table.to_dict("records")

    def _choose_ranker(
        self, train: TrainingSet
    ) -> tuple[str, list[dict[str, Any]], tuple[float, float] | None]:
        """The ranker (``settings.model``, or the best by inner validation for ``auto``), the
        inner-validation table, and the ranker's calibration on the held-back candidates."""
        settings = self.settings_
        if settings.model != "auto":
            candidates: tuple[str, ...] = (settings.model,)
        else:
            # EASE's ranker needs EASE; lambdarank, the optional lightgbm: left out without.
            candidates = tuple(
                r
                for r in settings.rankers or AUTO_RANKERS
                if not (r == "ease" and self.ease_l2_ is None)
                and not (r == "lgbm_rank" and not lightgbm_available())
            ) or (RANKERS[0],)
        if train.validation is None:
            return candidates[0], [], None
        chosen, table, probabilities = select_ranker(
            train.features,
            train.labels,
            train.groups,
            train.validation,
            settings,
            candidates,
            train.queries,
        )
        calibration = (
            platt_scaling(probabilities, train.validation.labels)
            if probabilities is not None
            else None
        )
        return chosen, table if settings.model == "auto" else [], calibration

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
        self.snapshot_: LinkSnapshot = with_rp3(
            with_ease(
                build_snapshot(index, dataset.links, dataset.outcomes),
                getattr(self, "ease_l2_", None),
                self.settings_.ease_max_side,
            ),
            self.settings_.rp3,
        )
        self.data_fingerprint_ = fingerprint
        self.rankings_: dict[int, dict[str, Any]] = {}

    @property
    def ranking_(self) -> RankingPath:
        """The one ranking path on the bound dataset (NotFittedError where none is bound)."""
        self._check_bound()
        # Built per use, light: it holds no state of its own, and a path kept on the matcher
        # would hold the matcher back through score_features (a cycle only the GC breaks).
        return RankingPath(self.index_, self.snapshot_, self.settings_, self.score_features)

    # -- scoring --------------------------------------------------------------------------------
    def score_features(self, features: pd.DataFrame) -> np.ndarray:
        """Scores in [0, 1] for a frame of pair features (higher = more likely to work)."""
        self._check_fitted()
        if len(features) == 0:
            return np.zeros(0)
        if self.pipeline_ is None:
            return prior_score(features)
        return learned_score(
            self.pipeline_,
            features[self.feature_names_],
            self.negative_rate_,
            getattr(self, "calibration_", None),
        )

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Each feature's contribution to each pair's log-odds.

        For the learned scorer, the change in log-odds when that one feature is set back to its
        reference value (the median of training negatives); for the prior, weight times value.
        """
        self._check_fitted()
        if self.pipeline_ is None:
            return prior_terms(features).reindex(columns=self.feature_names_, fill_value=0.0)
        base = logit(self.score_features(features))
        out = {}
        for name in self.feature_names_:
            moved = features.copy()
            moved[name] = self.reference_[name]
            out[name] = base - logit(self.score_features(moved))
        return pd.DataFrame(out, index=features.index)

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
        ownership: str | None = None,
        sector: str | None = None,
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
            Keep suppliers of that category (or a sub-category), in that park (its id or its
            name), holding that certification.
        ownership : str, optional
            Keep suppliers of that ownership (``domestic``, ``soe``, ``jv``, ``fdi``, or
            ``local`` for every kind but ``fdi``).
        sector : str, optional
            Keep suppliers of that sector (case and accents ignored).
        tier : int
            1 for direct suppliers; 2 and more for suppliers of the buyer's Tier-1 firms
            (existing or recommended), from :meth:`chain`.
        lang : {"en", "vi"}

        Returns
        -------
        DataFrame
            :data:`RECOMMENDATION_COLUMNS` first, then names and the supplier's park.
        """
        path = self.ranking_
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
        b = path.buyer_position(buyer_id)
        cached = self.rankings_.get(b) if exclude_existing else None
        if cached is not None:
            if not (category or park or certification or ownership or sector):
                if cached["complete"] or len(cached["ranked"]) >= k:
                    return self._cached_rows(cached, k, lang)
            else:
                filtered = path.filtered(
                    cached["ranked"], category, park, certification, ownership, sector
                )
                if cached["complete"] or len(filtered) >= k:
                    return path.to_frame(filtered.head(k), lang)
        ranked = path.ranked(np.array([b]), exclude_existing=exclude_existing)
        ranked = path.filtered(ranked, category, park, certification, ownership, sector)
        return path.to_frame(ranked.head(k), lang)

    def _cached_rows(self, cached: dict[str, Any], k: int, lang: str) -> pd.DataFrame:
        key = f"frame_{lang}"
        if key not in cached:
            cached[key] = self.ranking_.to_frame(cached["ranked"], lang)
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
        path = self.ranking_
        buyers = path.buyers(buyer_ids)
        keep = self.settings_.precompute_k
        done = 0
        for batch in path.batches(buyers):
            ranked = path.ranked(batch)
            counts = ranked.groupby("buyer").size()
            top = ranked[ranked["rank"] <= keep].reset_index(drop=True)
            frames = {lang: path.to_frame(top, lang) for lang in languages}
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
            done += len(batch)
            if progress is not None:
                progress(done, len(buyers))
        return self

    def match_list(
        self,
        buyer_ids: Sequence[str] | None = None,
        k: int = 10,
        *,
        lang: str = "en",
        progress: Callable[[int, int], None] | None = None,
    ) -> pd.DataFrame:
        """Top-``k`` new suppliers for many buyers at once (default: every active buyer)."""
        path = self.ranking_
        buyers = path.buyers(buyer_ids)
        frames = []
        done = 0
        for batch in path.batches(buyers):
            ranked = path.ranked(batch)
            frames.append(path.to_frame(ranked[ranked["rank"] <= k], lang))
            done += len(batch)
            if progress is not None:
                progress(done, len(buyers))
        if not frames:
            return path.to_frame(path.ranked(np.zeros(0, dtype=np.int64)), lang)
        return pd.concat(frames, ignore_index=True)

    def suggest_buyers(self, supplier_id: str, k: int = 10, *, lang: str = "en") -> pd.DataFrame:
        """Buyers a supplier should approach, best first, with reasons (same scorer)."""
        path = self.ranking_
        supplier = path.index.supplier_index(supplier_id)
        return path.to_frame(path.ranked_buyers(supplier, k), lang)

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
        path = self.ranking_
        if depth < 1:
            raise ValueError("depth must be at least 1")
        if not 1 <= k <= 100:
            raise ValueError("k must be between 1 and 100")
        return supply_chain(path, buyer_id, depth=depth, k=k, lang=lang)

    def explain(self, supplier_id: str, buyer_id: str, *, lang: str = "en") -> dict[str, Any]:
        """Why (or why not yet) a pair: score, each feature's contribution, what blocks it.

        Works for any supplier-buyer pair, recommended or not, so a programme can see what a
        supplier lacks for a buyer (a certification, a process, capacity, category fit).
        """
        self._check_bound()
        return explain_pair(self, supplier_id, buyer_id, lang=lang)

    # -- evaluation protocol ----------------------------------------------------------------------
    @property
    def supplier_ids_(self) -> pd.Index:
        self._check_bound()
        return self.index_.supplier_ids

    def score_buyers(self, buyer_ids: Sequence[str]) -> np.ndarray:
        """Scores over every supplier for each buyer: candidates in [0, 1], the rest below 0.

        Non-candidates are ordered among themselves by popularity, so every supplier is ranked.
        """
        path = self.ranking_
        buyers = path.buyer_positions(buyer_ids)
        pop = np.log1p(path.snapshot.supplier_degree)
        pop = pop / pop.max() if pop.max() > 0 else pop
        out = np.tile(-1.0 + 1e-3 * pop, (len(buyers), 1))
        if len(buyers) == 0:
            return out
        unique, inverse = np.unique(buyers, return_inverse=True)
        ranked = path.ranked(unique)
        rows = np.searchsorted(unique, ranked["buyer"].to_numpy())
        block = np.tile(-1.0 + 1e-3 * pop, (len(unique), 1))
        block[rows, ranked["supplier"].to_numpy()] = ranked["score"].to_numpy()
        return block[inverse]

    def candidates(self, buyer_ids: Sequence[str]) -> pd.DataFrame:
        """The candidate pairs of the given buyers (before scoring and hard rules)."""
        path = self.ranking_
        return path.candidate_ids(path.buyer_positions(buyer_ids))

    # -- persistence ----------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the fitted scorer (not the data) to ``path`` with joblib.

        Model files are pickles: loading one runs code. Load only files you made.
        """
        self._check_fitted()
        # The file format lives with load_matcher, which builds Matchers: imported here, not
        # at the top, so that the two modules do not import each other at load time.
        from ketnoi.matcher._persist import save_matcher

        return save_matcher(self, path)
