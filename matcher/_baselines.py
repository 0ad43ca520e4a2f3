"""Baseline rankers that the matcher is judged against.

Every baseline follows the same small protocol as :class:`matcher.Matcher`, so
:func:`matcher._evaluate.evaluate` treats them alike:

- ``__init__`` only stores settings; ``fit(dataset)`` learns from the dataset's links (all of
  them, active and ended: an ended link still shows the pair could work together) and
  returns ``self``; learned state ends in ``_``;
- ``supplier_ids_`` is a :class:`pandas.Index` in the order of
  :attr:`matcher._index.FirmIndex.supplier_ids`;
- ``score_buyers(buyer_ids)`` returns a dense ``len(buyer_ids) x len(supplier_ids_)`` array,
  higher is better;
- ``name`` names the method in reports.

Scores follow the matcher's convention where a baseline has a notion of candidates: a
supplier the baseline would put forward scores at least ``candidate_threshold`` (0), any other
supplier scores below it. ALS scores every supplier and has no threshold (``None``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from ketnoi import graph
from ketnoi.matcher._collaborative import keep_top_per_row
from ketnoi.matcher._index import FirmIndex, LinkSnapshot, build_snapshot, buyer_rows, firm_index
from ketnoi.matcher._peers import choose_setting

__all__ = [
    "ALS",
    "ItemKNN",
    "L3Paths",
    "PopularCapable",
    "RandomCapable",
    "Ranker",
]


@runtime_checkable
class Ranker(Protocol):
    """What :func:`evaluate` needs of a method: fit on a dataset, then score buyers.

    The matcher satisfies it as well as the baselines. Baselines also carry a ``name``; the
    evaluation names methods by the keys of its ``methods`` mapping instead, so the protocol
    does not ask for one.
    """

    @property
    def supplier_ids_(self) -> pd.Index: ...

    def fit(self, dataset: graph.Dataset) -> Any: ...

    def score_buyers(self, buyer_ids: Sequence[str]) -> np.ndarray: ...


class _LinkBaseline:
    """Shared fitting and lookup; subclasses fill in :meth:`_learn` and :meth:`_score`."""

    name = "baseline"
    #: Scores at or above this mark the baseline's candidates; None: no candidate step.
    candidate_threshold: float | None = 0.0

    supplier_ids_: pd.Index
    buyer_ids_: pd.Index
    links_: sp.csr_matrix
    popularity_: np.ndarray

    def fit(self, dataset: graph.Dataset) -> _LinkBaseline:
        """Learn from the links of ``dataset`` (active and ended) and return ``self``."""
        index = firm_index(dataset)
        snap = build_snapshot(index, dataset.links)
        self.supplier_ids_ = index.supplier_ids
        self.buyer_ids_ = index.buyer_ids
        self.links_ = snap.links
        self.popularity_ = np.asarray(snap.supplier_degree, dtype=float)
        self._learn(dataset, index, snap)
        return self

    def score_buyers(self, buyer_ids: Sequence[str]) -> np.ndarray:
        """Scores of every supplier for each buyer, one row per buyer, higher is better.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Where :meth:`fit` has not been called.
        KeyError
            Where an id is not a buyer (role buyer or both) of the fitted dataset.
        """
        if not hasattr(self, "supplier_ids_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(dataset)")
        return self._score(buyer_rows(self.buyer_ids_, buyer_ids))

    def _learn(self, dataset: graph.Dataset, index: FirmIndex, snap: LinkSnapshot) -> None:
        """Learn what the scores need beyond links and popularity."""

    def _score(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _popularity_fraction(self) -> np.ndarray:
        # Popularity squeezed into [0, 1): added to whole counts it breaks ties without ever
        # overturning a difference of one path.
        return self.popularity_ / (self.popularity_.max(initial=0.0) + 1.0)

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({settings})"


class _CapableBaseline(_LinkBaseline):
    """A baseline that ranks capable suppliers above all others.

    A supplier is capable for a buyer when it offers (makes, or has sold through a link) a
    category the buyer needs (demanded, an input of what it makes, or bought through a link),
    or one related to it in the category tree. Without profiles, or for a buyer that needs
    nothing known, every supplier is capable: there is nothing to restrict on.
    """

    needs_: sp.csr_matrix
    reach_: sp.csr_matrix
    has_profiles_: bool

    def _learn(self, dataset: graph.Dataset, index: FirmIndex, snap: LinkSnapshot) -> None:
        n_cat = index.n_categories
        # categories needed -> suppliers that offer that category or a related one
        near = (sp.identity(n_cat, format="csr") + index.related).tocsr()
        self.reach_ = (near @ snap.offers.T).tocsr()
        self.needs_ = snap.needs
        self.has_profiles_ = bool(dataset.has_profiles)

    def capable(self, rows: np.ndarray) -> np.ndarray:
        """Boolean ``len(rows) x suppliers``: which suppliers are capable for each buyer row."""
        n_sup = len(self.supplier_ids_)
        if not self.has_profiles_:
            return np.ones((len(rows), n_sup), dtype=bool)
        needs = self.needs_[rows]
        fit = (needs @ self.reach_).toarray() > 0
        needs_nothing = np.diff(needs.indptr) == 0
        fit[needs_nothing] = True
        return fit


class RandomCapable(_CapableBaseline):
    """Random order among capable suppliers, then random order among the rest.

    Parameters
    ----------
    seed : int
        Scores for a buyer depend only on the seed and the buyer, not on which other buyers
        are scored in the same call.
    """

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def _score(self, rows: np.ndarray) -> np.ndarray:
        n_sup = len(self.supplier_ids_)
        draws = np.empty((len(rows), n_sup))
        for i, row in enumerate(rows):
            draws[i] = np.random.default_rng([self.seed, int(row)]).random(n_sup)
        return np.where(self.capable(rows), draws, draws - 1.0)


class PopularCapable(_CapableBaseline):
    """Capable suppliers by the number of buyers they supply, then the rest by the same."""

    name = "popular"

    def __init__(self) -> None:
        pass

    def _score(self, rows: np.ndarray) -> np.ndarray:
        pop = np.broadcast_to(self.popularity_, (len(rows), len(self.popularity_)))
        return np.where(self.capable(rows), pop, self._popularity_fraction() - 1.0)


class L3Paths(_LinkBaseline):
    """Number of length-3 paths buyer - supplier' - buyer' - supplier in the link graph.

    "Suppliers of buyers who share suppliers with you" (Kovács et al. 2019, on protein
    networks, where such paths beat common neighbours in bipartite-like graphs). Counts are
    walks of ``A Aᵀ A``; for a supplier not yet linked to the buyer every such walk is a path.
    Ties (zero paths included) go to the more popular supplier; suppliers with no path score
    below 0.
    """

    name = "l3"

    def __init__(self) -> None:
        pass

    def path_counts(self, rows: np.ndarray) -> sp.csr_matrix:
        """Sparse ``len(rows) x suppliers`` walk counts of length 3."""
        a = self.links_
        return ((a[rows] @ a.T) @ a).tocsr()

    def _score(self, rows: np.ndarray) -> np.ndarray:
        paths = self.path_counts(rows).toarray()
        pop = self._popularity_fraction()
        return np.where(paths > 0, paths + pop, pop - 1.0)


class ItemKNN(_LinkBaseline):
    """Item-item nearest neighbours on the buyers x suppliers link matrix.

    ``score(b, s) = Σ_{s' supplies b} sim(s', s)`` where ``sim`` is the cosine of the two
    suppliers' buyer sets, and each supplier ``s'`` keeps only its ``k_neighbours`` most
    similar suppliers (ties to the earlier supplier). A supplier's similarity to itself is
    left out. Suppliers with score 0 follow, by popularity, below 0.

    Parameters
    ----------
    k_neighbours : int
        Neighbours kept per supplier.
    """

    name = "itemknn"

    similarity_: sp.csr_matrix

    def __init__(self, k_neighbours: int = 50) -> None:
        self.k_neighbours = k_neighbours

    def _learn(self, dataset: graph.Dataset, index: FirmIndex, snap: LinkSnapshot) -> None:
        a = self.links_
        co = (a.T @ a).tocsr()  # suppliers x suppliers: buyers in common
        norm = np.sqrt(np.asarray(a.sum(axis=0)).ravel())
        inv = np.divide(1.0, norm, out=np.zeros_like(norm), where=norm > 0)
        cos = (sp.diags(inv) @ co @ sp.diags(inv)).tocsr()
        cos.setdiag(0.0)
        cos.eliminate_zeros()
        self.similarity_ = keep_top_per_row(cos, self.k_neighbours)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        scores = (self.links_[rows] @ self.similarity_).toarray()
        return np.where(scores > 0, scores, self._popularity_fraction() - 1.0)


class ALS(_LinkBaseline):
    """Implicit-feedback matrix factorisation (Hu, Koren and Volinsky 2008) via ``implicit``.

    Confidence is plain: each linked pair counts ``alpha``, each unlinked pair 1. Links are
    yes/no facts with no repeat counts, so BM25 or TF-IDF weighting would have no term
    frequencies to saturate; all they would add is damping of popular suppliers, which would
    make this a different model from the textbook baseline.

    Where ``factors`` or ``regularization`` is a sequence, the setting is chosen at fit time by
    inner validation on the training links only, as the peers choose theirs
    (:func:`ketnoi.matcher._peers.inner_holdout`, :func:`~ketnoi.matcher._peers.inner_ndcg`):
    a seeded fifth of the links of up to ``max_tuning_buyers`` buyers is hidden, each setting
    is fitted on the rest and judged by NDCG@10, and the best is refitted on every link.
    ``setting_`` holds the choice and ``validation_`` the table.

    Parameters
    ----------
    factors : int or sequence of int
        Latent factors, or the values inner validation chooses from.
    regularization : float or sequence of float
        L2 penalty of :class:`implicit.cpu.als.AlternatingLeastSquares`, or the values to
        choose from.
    iterations : int
        Alternating sweeps.
    alpha : float
        Confidence of an observed link.
    seed : int
        Random state of the initial factors and of the inner-validation sample.
    max_tuning_buyers : int
        Size of the inner-validation sample.
    """

    name = "als"
    candidate_threshold = None

    buyer_factors_: np.ndarray
    supplier_factors_: np.ndarray
    setting_: dict[str, Any]
    validation_: pd.DataFrame

    def __init__(
        self,
        factors: int | Sequence[int] = 32,
        iterations: int = 20,
        regularization: float | Sequence[float] = 0.05,
        alpha: float = 1.0,
        seed: int = 0,
        *,
        max_tuning_buyers: int = 2000,
    ) -> None:
        self.factors = factors
        self.iterations = iterations
        self.regularization = regularization
        self.alpha = alpha
        self.seed = seed
        self.max_tuning_buyers = max_tuning_buyers

    def _grid(self) -> list[dict[str, Any]]:
        factors = [self.factors] if isinstance(self.factors, int) else list(self.factors)
        regs = (
            [self.regularization]
            if isinstance(self.regularization, int | float)
            else list(self.regularization)
        )
        return [{"factors": int(f), "regularization": float(r)} for f in factors for r in regs]

    def _factorise(
        self, links: sp.csr_matrix, setting: dict[str, Any]
    ) -> tuple[np.ndarray, np.ndarray]:
        import warnings

        from threadpoolctl import threadpool_limits

        with warnings.catch_warnings():
            # implicit imports tqdm's notebook bar, which warns in Jupyter without ipywidgets;
            # progress is off here anyway, so the warning only puzzles analysts.
            warnings.filterwarnings("ignore", message="IProgress not found")
            from implicit.cpu.als import AlternatingLeastSquares

        # implicit parallelises over users itself; a multi-threaded BLAS underneath it
        # oversubscribes the cores (implicit warns, and runs several times slower).
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=setting["factors"],
                iterations=self.iterations,
                regularization=setting["regularization"],
                alpha=self.alpha,
                random_state=self.seed,
            )
            model.fit(sp.csr_matrix(links, dtype=np.float32), show_progress=False)
        return np.asarray(model.user_factors), np.asarray(model.item_factors)

    def _learn(self, dataset: graph.Dataset, index: FirmIndex, snap: LinkSnapshot) -> None:
        def solve(
            links: sp.csr_matrix, setting: dict[str, Any]
        ) -> Callable[[np.ndarray], np.ndarray]:
            return _dot_scorer(*self._factorise(links, setting))

        self.setting_, self.validation_ = choose_setting(
            self._grid(),
            solve,
            sp.csr_matrix(self.links_, dtype=float),
            max_buyers=self.max_tuning_buyers,
            seed=self.seed,
        )
        self.buyer_factors_, self.supplier_factors_ = self._factorise(self.links_, self.setting_)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return (self.buyer_factors_[rows] @ self.supplier_factors_.T).astype(float)


def _dot_scorer(buyers: np.ndarray, suppliers: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Scores of buyer rows as dot products of their factors with every supplier's."""

    def scores(rows: np.ndarray) -> np.ndarray:
        return np.asarray(buyers[rows] @ suppliers.T, dtype=float)

    return scores
