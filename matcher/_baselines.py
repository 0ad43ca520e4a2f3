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

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from ketnoi import graph
from ketnoi.matcher._index import FirmIndex, LinkSnapshot, build_snapshot

__all__ = [
    "ALS",
    "ItemKNN",
    "L3Paths",
    "PopularCapable",
    "RandomCapable",
    "Ranker",
    "firm_index",
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


# An evaluation fits several rankers (times several seeds) on training datasets made with
# dataclasses.replace, which share the firm and profile frames of the full dataset; indexing
# those frames once instead of once per fit is most of a baseline's fitting time. Entries hold
# the frames themselves, so an id cannot be reused by another frame while its entry lives.
_INDEX_CACHE: OrderedDict[int, tuple[tuple[object, ...], FirmIndex]] = OrderedDict()
_INDEX_CACHE_SIZE = 4
_INDEX_FRAMES = ("firms", "parks", "categories", "category_inputs", "capabilities", "demands")


def firm_index(dataset: graph.Dataset) -> FirmIndex:
    """:meth:`FirmIndex.from_dataset`, reused while the firm and profile frames are the same.

    The index does not depend on links or outcomes, so datasets that differ only in those
    (training folds) share one index.
    """
    frames = tuple(getattr(dataset, name) for name in _INDEX_FRAMES)
    key = id(dataset.firms)
    cached = _INDEX_CACHE.get(key)
    if cached is not None and all(a is b for a, b in zip(cached[0], frames, strict=True)):
        _INDEX_CACHE.move_to_end(key)
        return cached[1]
    index = FirmIndex.from_dataset(dataset)
    _INDEX_CACHE[key] = (frames, index)
    while len(_INDEX_CACHE) > _INDEX_CACHE_SIZE:
        _INDEX_CACHE.popitem(last=False)
    return index


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
        rows = self.buyer_ids_.get_indexer(pd.Index(list(buyer_ids), dtype=object))
        if (rows < 0).any():
            missing = [b for b, r in zip(buyer_ids, rows, strict=True) if r < 0]
            raise KeyError(f"not buyers of the fitted dataset: {missing[:5]}")
        return self._score(rows)

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
        self.similarity_ = _keep_top_per_row(cos, self.k_neighbours)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        scores = (self.links_[rows] @ self.similarity_).toarray()
        return np.where(scores > 0, scores, self._popularity_fraction() - 1.0)


def _keep_top_per_row(matrix: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Each row's ``k`` largest entries, ties to the smaller column."""
    matrix = matrix.tocsr()
    matrix.sort_indices()
    keep = np.zeros(matrix.nnz, dtype=bool)
    for row in range(matrix.shape[0]):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        if end - start <= k:
            keep[start:end] = True
            continue
        # lexsort's last key is primary: value descending, then column (already ascending).
        order = np.lexsort((np.arange(end - start), -matrix.data[start:end]))[:k]
        keep[start + order] = True
    row_of = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    counts = np.bincount(row_of[keep], minlength=matrix.shape[0])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csr_matrix((matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape)


class ALS(_LinkBaseline):
    """Implicit-feedback matrix factorisation (Hu, Koren and Volinsky 2008) via ``implicit``.

    Confidence is plain: each linked pair counts ``alpha``, each unlinked pair 1. Links are
    yes/no facts with no repeat counts, so BM25 or TF-IDF weighting would have no term
    frequencies to saturate; all they would add is damping of popular suppliers, which would
    make this a different model from the textbook baseline.

    Parameters
    ----------
    factors, iterations, regularization : int, int, float
        As in :class:`implicit.cpu.als.AlternatingLeastSquares`.
    alpha : float
        Confidence of an observed link.
    seed : int
        Random state of the initial factors.
    """

    name = "als"
    candidate_threshold = None

    buyer_factors_: np.ndarray
    supplier_factors_: np.ndarray

    def __init__(
        self,
        factors: int = 32,
        iterations: int = 20,
        regularization: float = 0.05,
        alpha: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.iterations = iterations
        self.regularization = regularization
        self.alpha = alpha
        self.seed = seed

    def _learn(self, dataset: graph.Dataset, index: FirmIndex, snap: LinkSnapshot) -> None:
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
                factors=self.factors,
                iterations=self.iterations,
                regularization=self.regularization,
                alpha=self.alpha,
                random_state=self.seed,
            )
            model.fit(self.links_.astype(np.float32), show_progress=False)
        self.buyer_factors_ = np.asarray(model.user_factors)
        self.supplier_factors_ = np.asarray(model.item_factors)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return (self.buyer_factors_[rows] @ self.supplier_factors_.T).astype(float)
