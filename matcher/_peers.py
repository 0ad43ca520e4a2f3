"""The strongest simple peers on link-only networks, tuned by inner validation: EASE, RP3beta.

They follow the baselines' protocol (:mod:`ketnoi.matcher._baselines`): ``fit(dataset)`` learns
from the dataset's links, ``score_buyers(buyer_ids)`` returns a dense buyers x suppliers array.
Their settings are chosen at fit time on the training links only: a seeded share of each sampled
buyer's links is hidden, every setting in the grid ranks the rest, and the best NDCG@10 wins
(``validation_`` keeps the table). A test split never sees a choice being made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import product
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from ketnoi import graph
from ketnoi.matcher._collaborative import (
    EaseSolution,
    fit_ease_signal,
    rp3beta_similarity,
    solve_ease,
)
from ketnoi.matcher._index import build_snapshot, buyer_rows, firm_index

__all__ = [
    "EASE",
    "EASE_L2_GRID",
    "RP3beta",
    "choose_ease_l2",
    "choose_setting",
    "inner_holdout",
    "inner_ndcg",
]

#: A scorer made from training links: buyer rows in, dense scores out.
Scorer = Callable[[np.ndarray], np.ndarray]


def inner_holdout(
    links: sp.csr_matrix,
    *,
    fraction: float = 0.2,
    max_buyers: int = 2000,
    seed: int = 0,
) -> tuple[sp.csr_matrix, np.ndarray, list[np.ndarray]]:
    """Hide a seeded share of the links of a sample of buyers, for choosing settings.

    Only buyers with at least two links take part, and each keeps at least one link, so every
    judged buyer has something to go on and something to find.

    Returns
    -------
    train : scipy.sparse.csr_matrix
        ``links`` without the hidden ones.
    rows : numpy.ndarray
        The judged buyer rows.
    hidden : list of numpy.ndarray
        Each judged buyer's hidden supplier columns.
    """
    rng = np.random.default_rng(seed)
    links = sp.csr_matrix(links)
    degree = np.diff(links.indptr)
    eligible = np.flatnonzero(degree >= 2)
    if len(eligible) > max_buyers:
        eligible = np.sort(rng.choice(eligible, size=max_buyers, replace=False))
    keep = np.ones(links.nnz, dtype=bool)
    rows, hidden = [], []
    for row in eligible:
        lo, hi = links.indptr[row], links.indptr[row + 1]
        n_hide = min(hi - lo - 1, max(1, round((hi - lo) * fraction)))
        picked = lo + rng.choice(hi - lo, size=n_hide, replace=False)
        keep[picked] = False
        rows.append(row)
        hidden.append(links.indices[picked])
    coo = links.tocoo()
    train = sp.csr_matrix(
        (coo.data[keep], (coo.row[keep], coo.col[keep])), shape=links.shape, dtype=float
    )
    return train, np.asarray(rows, dtype=np.int64), hidden


def inner_ndcg(
    scorer: Scorer,
    train: sp.csr_matrix,
    rows: np.ndarray,
    hidden: list[np.ndarray],
    k: int = 10,
    batch: int = 256,
) -> float:
    """Mean NDCG@k of ``scorer`` at finding each judged buyer's hidden links.

    Training links are excluded from the ranking, as they are when a match list is made.
    """
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    total = 0.0
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        scores = np.array(scorer(chunk), dtype=float)
        known = train[chunk]
        scores[known.nonzero()] = -np.inf
        top = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        for i, row_top in enumerate(top):
            order = row_top[np.argsort(-scores[i, row_top], kind="stable")]
            target = hidden[start + i]
            gains = np.isin(order, target) * discount[: len(order)]
            ideal = discount[: min(k, len(target))].sum()
            total += gains.sum() / ideal
    return total / max(len(rows), 1)


def choose_setting(
    grid: list[dict[str, Any]],
    solve: Callable[[sp.csr_matrix, dict[str, Any]], Scorer],
    links: sp.csr_matrix,
    *,
    max_buyers: int = 2000,
    seed: int = 0,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The setting of ``grid`` with the best inner NDCG@10 on ``links``, and every score.

    ``solve(train, setting)`` makes a scorer from training links. A grid of one is taken as it
    is (its score is NaN: nothing was compared). Ties go to the earlier setting.
    """
    if len(grid) == 1:
        return grid[0], pd.DataFrame([{**grid[0], "inner_ndcg@10": np.nan}])
    train, rows, hidden = inner_holdout(links, max_buyers=max_buyers, seed=seed)
    table = [
        {**setting, "inner_ndcg@10": inner_ndcg(solve(train, setting), train, rows, hidden)}
        if len(rows)
        else {**setting, "inner_ndcg@10": 0.0}
        for setting in grid
    ]
    frame = pd.DataFrame(table)
    return grid[int(frame["inner_ndcg@10"].to_numpy().argmax())], frame


#: The ridge penalties EASE chooses from (Steck 2019 found 50-800 good on most datasets; small
#: link graphs want less).
EASE_L2_GRID: tuple[float, ...] = (5.0, 20.0, 50.0, 200.0, 800.0)


def choose_ease_l2(
    links: sp.csr_matrix,
    max_side: int,
    *,
    grid: Sequence[float] = EASE_L2_GRID,
    max_buyers: int = 500,
    seed: int = 0,
) -> tuple[float, pd.DataFrame]:
    """EASE's ridge penalty for the matcher's collaborative signal, by inner NDCG@10.

    The signal is solved as the matcher will use it (truncated to ``max_side`` where the
    network is larger), on ``links`` with a share of ``max_buyers`` buyers' links hidden.

    Returns
    -------
    l2 : float
    table : DataFrame
        ``l2`` and ``inner_ndcg@10`` of every value tried.
    """
    best, table = choose_setting(
        [{"l2": float(v)} for v in grid],
        lambda train, s: fit_ease_signal(train, s["l2"], max_side).full_scores,
        links,
        max_buyers=max_buyers,
        seed=seed,
    )
    return float(best["l2"]), table


def _values(setting: Any) -> list[Any]:
    """A setting as the list of values to choose from (one value: a list of one)."""
    return [setting] if np.isscalar(setting) else list(setting)


class _TunedPeer:
    """Fitting, tuning and lookup shared by the peers; subclasses solve for one setting."""

    name = "peer"
    candidate_threshold: float | None = None

    supplier_ids_: pd.Index
    buyer_ids_: pd.Index
    links_: sp.csr_matrix
    setting_: dict[str, Any]
    validation_: pd.DataFrame

    def __init__(self, *, max_tuning_buyers: int = 2000, seed: int = 0) -> None:
        self.max_tuning_buyers = max_tuning_buyers
        self.seed = seed

    def _grid(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _solve(self, links: sp.csr_matrix, setting: dict[str, Any]) -> Scorer:
        raise NotImplementedError

    def fit(self, dataset: graph.Dataset) -> _TunedPeer:
        """Choose a setting by inner validation on the links of ``dataset``, then fit on all."""
        index = firm_index(dataset)
        snap = build_snapshot(index, dataset.links)
        self.supplier_ids_ = index.supplier_ids
        self.buyer_ids_ = index.buyer_ids
        self.links_ = sp.csr_matrix(snap.links, dtype=float)
        self.setting_, self.validation_ = choose_setting(
            self._grid(),
            self._solve,
            self.links_,
            max_buyers=self.max_tuning_buyers,
            seed=self.seed,
        )
        self._scorer = self._solve(self.links_, self.setting_)
        return self

    def score_buyers(self, buyer_ids: Sequence[str]) -> np.ndarray:
        """Scores of every supplier for each buyer, one row per buyer, higher is better.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Where :meth:`fit` has not been called.
        KeyError
            Where an id is not a buyer of the fitted dataset.
        """
        if not hasattr(self, "_scorer"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(dataset)")
        return self._scorer(buyer_rows(self.buyer_ids_, buyer_ids))


class EASE(_TunedPeer):
    """EASE (Steck 2019): closed-form item-item ridge regression over suppliers.

    Solved in the buyer-side (Woodbury) form where suppliers outnumber buyers, so memory grows
    with the smaller side (see :func:`ketnoi.matcher._collaborative.solve_ease`).

    Parameters
    ----------
    l2 : float or sequence of float
        The ridge penalty, or the values inner validation chooses from.
    max_tuning_buyers, seed : int
        Size and seed of the inner-validation sample.
    """

    name = "ease"

    def __init__(
        self,
        l2: float | Sequence[float] = EASE_L2_GRID,
        *,
        max_tuning_buyers: int = 2000,
        seed: int = 0,
    ) -> None:
        super().__init__(max_tuning_buyers=max_tuning_buyers, seed=seed)
        self.l2 = l2

    def _grid(self) -> list[dict[str, Any]]:
        return [{"l2": float(v)} for v in _values(self.l2)]

    def _solve(self, links: sp.csr_matrix, setting: dict[str, Any]) -> Scorer:
        solution: EaseSolution = solve_ease(links, setting["l2"])
        return solution.scores


class RP3beta(_TunedPeer):
    """RP3beta (Paudel et al. 2016): a popularity-penalised three-step random walk.

    Parameters
    ----------
    alpha, beta : float or sequence of float
        The walk's sharpening and the popularity penalty, or the values to choose from.
    k_neighbours : int or sequence of int
        Neighbours kept per supplier, or the values to choose from.
    max_tuning_buyers, seed : int
        Size and seed of the inner-validation sample.
    """

    name = "rp3beta"
    candidate_threshold = 0.0

    def __init__(
        self,
        alpha: float | Sequence[float] = (0.5, 1.0),
        beta: float | Sequence[float] = (0.0, 0.3, 0.6),
        k_neighbours: int | Sequence[int] = (50, 200),
        *,
        max_tuning_buyers: int = 2000,
        seed: int = 0,
    ) -> None:
        super().__init__(max_tuning_buyers=max_tuning_buyers, seed=seed)
        self.alpha = alpha
        self.beta = beta
        self.k_neighbours = k_neighbours

    def _grid(self) -> list[dict[str, Any]]:
        return [
            {"alpha": float(a), "beta": float(b), "k_neighbours": int(k)}
            for a, b, k in product(
                _values(self.alpha), _values(self.beta), _values(self.k_neighbours)
            )
        ]

    def _solve(self, links: sp.csr_matrix, setting: dict[str, Any]) -> Scorer:
        weights = rp3beta_similarity(links, **setting)
        degree = np.asarray(links.sum(axis=0)).ravel()
        # Suppliers the walk never reaches follow by popularity, below 0 (the candidates' mark).
        fallback = degree / (degree.max(initial=0.0) + 1.0) - 1.0

        def scores(rows: np.ndarray) -> np.ndarray:
            walked = np.asarray((links[rows] @ weights).toarray())
            return np.where(walked > 0, walked, fallback)

        return scores
