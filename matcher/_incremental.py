"""Incremental rescoring: between retrains, a change reranks only the buyers it can touch.

The model's global matrices stay as the fit saw them (:mod:`matcher._frozen`), so a buyer's
list is a function of a few things the data hold about it: its own rows (links, demands,
needs, outcomes, profile), its candidates' rows, the buyers it shares suppliers with, and its
most similar buyers (by suppliers and by needs), whose suppliers are its graph candidates. Each
rule of :data:`RULES` follows one of these dependencies back from a change to the buyers that
read it; their union is the affected set, and :func:`rescore` ranks it and keeps every other
list as it was. Changes are found by comparing the data before and after (ids, not positions),
so the caller passes the new data, not a description of the change.

A state remembers, per ranked buyer, what the rules look up: its candidates (before hard rules),
its most similar buyers by suppliers and by needs (``top_per_row`` of the ranking path, ties by
column) and whether it fell back on the most-linked suppliers. A test holds :func:`rescore`
against :func:`full_rankings` of the same frozen model on random changes of every kind, and
shows that a smaller affected set breaks the equality.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ketnoi import graph
from ketnoi.matcher import _features
from ketnoi.matcher._affected import RULES, affected_by_rule, demand_row_map, positions_mask
from ketnoi.matcher._features import candidate_pairs, top_per_row
from ketnoi.matcher._frozen import FrozenGlobals, realigned
from ketnoi.matcher._index import FirmIndex, LinkSnapshot
from ketnoi.matcher._ranking import RankingPath

if TYPE_CHECKING:
    from ketnoi.matcher._model import Matcher

__all__ = [
    "RULES",
    "RankingState",
    "affected_buyers",
    "full_rankings",
    "rescore",
    "served_matcher",
]


@dataclass(eq=False)
class RankingState:
    """Every ranked buyer's list on one version of the data, and what rescoring looks up.

    Attributes
    ----------
    matcher : Matcher
        The fitted scorer (its settings and ``score_features``).
    frozen : FrozenGlobals
    index, snapshot
        The data of this state with the frozen global matrices.
    k : int
    lang : str
    rows : DataFrame
        The top ``k`` ranked pairs of every ranked buyer (positions, score, features, facts,
        rank: the rows of ``RankingPath.ordered``), by buyer position then rank; ``lists``
        names them.
    counts : int array
        Per buyer, how many pairs were ranked (more than ``k`` where the list goes on).
    ranked : bool array
        Per buyer position: in the lists (every active buyer).
    candidates, neighbours, demand_neighbours : csr_matrix
        Buyers x suppliers candidates (before hard rules); buyers x buyers most similar by
        suppliers and by needs. Rows of ranked buyers only.
    fallback : bool array
        Per buyer: no candidates of its own (it took the most-linked suppliers).
    cut : float array
        Per buyer, the pre-ranking score a supplier must reach to join its full candidate
        list (-inf where the list is not full: any supplier the graph reaches joins it).
    rescored : int array
        Buyer positions the step that made this state ranked.
    why : dict of str to int
        Per rule of :data:`RULES`, how many buyers it put in the step's affected set.
    """

    matcher: Matcher
    frozen: FrozenGlobals
    index: FirmIndex
    snapshot: LinkSnapshot
    k: int
    lang: str
    rows: pd.DataFrame
    counts: np.ndarray
    ranked: np.ndarray
    candidates: sp.csr_matrix
    neighbours: sp.csr_matrix
    demand_neighbours: sp.csr_matrix
    fallback: np.ndarray
    cut: np.ndarray
    rescored: np.ndarray
    why: dict[str, int] = field(default_factory=dict)

    @property
    def path(self) -> RankingPath:
        return _path(self.matcher, self.index, self.snapshot)

    @property
    def lists(self) -> pd.DataFrame:
        """The lists as answers (``RankingPath.to_frame``: ids, rank, score, reasons...)."""
        return self.path.to_frame(self.rows, self.lang)


def _path(m: Matcher, index: FirmIndex, snap: LinkSnapshot) -> RankingPath:
    return RankingPath(index, snap, m.settings_, m.score_features)


def _binary(rows: list[np.ndarray], cols: list[np.ndarray], shape: tuple[int, int]):  # type: ignore[no-untyped-def]
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    out = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=shape)
    out.sum_duplicates()
    out.data[:] = 1.0
    return out


def _rank(
    path: RankingPath, buyers: np.ndarray, k: int, lang: str
) -> tuple[
    pd.DataFrame, np.ndarray, sp.csr_matrix, sp.csr_matrix, sp.csr_matrix, np.ndarray, np.ndarray
]:
    """The lists of ``buyers`` and what rescoring remembers of them, on one ranking path."""
    index = path.index
    n_b, n_s = index.n_buyers, index.n_suppliers
    # The same neighbour count as BatchSignals.compute (read at call time, as it does).
    m = _features.NEIGHBOUR_BUYERS if n_b > _features.ALL_NEIGHBOURS_UP_TO else n_b
    parts: list[pd.DataFrame] = []
    cand: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    nbr: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    dnbr: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    fallback = np.zeros(n_b, dtype=bool)
    cut = np.full(n_b, -np.inf)
    for batch in path.batches(buyers):
        signals = path.signals(batch)
        # RankingPath.candidates with the pre-ranking scores kept: the weakest of a full list
        # is the bar a supplier the graph newly reaches must clear to join it.
        cb, cs, pre = candidate_pairs(
            index, path.snapshot, signals, max_candidates=path.settings.max_candidates
        )
        parts.append(path.scored(signals, cb, cs))
        cut[batch] = _cuts(batch, cb, pre, path.settings.max_candidates)
        cand[0].append(cb)
        cand[1].append(cs)
        others = signals.shared.copy()
        others[np.arange(len(batch)), batch] = 0.0
        for out, block in ((nbr, others), (dnbr, signals.demand_peers)):
            top = top_per_row(block, m, binary=True).tocoo()
            out[0].append(batch[top.row])
            out[1].append(top.col.astype(np.int64))
        reach = (
            abs(signals.exact) + abs(signals.related) + signals.graph_reach + signals.demand_reach
        )
        fallback[batch[np.asarray((reach > 0).sum(axis=1)).ravel() == 0]] = True
    empty = np.zeros(0, dtype=np.int64)
    ranked = path.ordered(pd.concat(parts, ignore_index=True) if parts else path.rank_batch(empty))
    counts = np.bincount(ranked["buyer"].to_numpy(), minlength=n_b)
    return (
        ranked[ranked["rank"].to_numpy() <= k].reset_index(drop=True),
        counts,
        _binary(*cand, (n_b, n_s)),
        _binary(*nbr, (n_b, n_b)),
        _binary(*dnbr, (n_b, n_b)),
        fallback,
        cut,
    )


def _cuts(batch: np.ndarray, cb: np.ndarray, pre: np.ndarray, limit: int) -> np.ndarray:
    """Per buyer of ``batch``, the weakest pre-ranking score of a full list, else -inf.

    EASE's own picks carry a pre-ranking score of 0 and keep their places whatever it is.
    """
    frame = pd.DataFrame({"b": cb, "pre": np.where(pre > 0, pre, np.inf)})
    groups = frame.groupby("b")["pre"]
    counts = groups.size().reindex(batch, fill_value=0).to_numpy()
    weakest = groups.min().reindex(batch, fill_value=np.inf).to_numpy()
    return np.where(counts >= limit, weakest, -np.inf)


def full_rankings(
    m: Matcher,
    dataset: graph.Dataset | None = None,
    *,
    frozen: FrozenGlobals | None = None,
    k: int = 10,
    lang: str = "en",
) -> RankingState:
    """Rank every active buyer of ``dataset`` with ``m``'s scorer and frozen global matrices.

    Parameters
    ----------
    m : Matcher
        Fitted and bound.
    dataset : Dataset, optional
        Default: the data ``m`` is bound to.
    frozen : FrozenGlobals, optional
        Default: ``m``'s own (:meth:`FrozenGlobals.from_matcher`); pass the first state's
        ``frozen`` to rank later data with the same model.
    k : int
    lang : {"en", "vi"}
    """
    frozen = FrozenGlobals.from_matcher(m) if frozen is None else frozen
    index, snap = frozen.bind(m.dataset_ if dataset is None else dataset)
    path = _path(m, index, snap)
    buyers = path.active_buyers()
    rows, counts, cand, nbr, dnbr, fallback, cut = _rank(path, buyers, k, lang)
    ranked = np.zeros(index.n_buyers, dtype=bool)
    ranked[buyers] = True
    return RankingState(
        m,
        frozen,
        index,
        snap,
        k,
        lang,
        rows,
        counts,
        ranked,
        cand,
        nbr,
        dnbr,
        fallback,
        cut,
        buyers,
    )


def affected_buyers(
    state: RankingState, dataset: graph.Dataset, *, by_rule: bool = False
) -> set[str] | dict[str, set[str]]:
    """The buyers whose lists a move from ``state``'s data to ``dataset`` can change.

    Parameters
    ----------
    state : RankingState
    dataset : Dataset
        The data after the change (any number of changes together).
    by_rule : bool
        Return the buyers per rule of :data:`RULES` rather than their union.
    """
    index, snap = state.frozen.bind(dataset)
    rules = affected_by_rule(state, index, snap)
    ids = index.buyer_ids.to_numpy()
    if by_rule:
        return {rule: set(ids[mask]) for rule, mask in rules.items()}
    return set(ids[np.logical_or.reduce(list(rules.values()))])


def rescore(
    state: RankingState, dataset: graph.Dataset, *, affected: set[str] | None = None
) -> RankingState:
    """The state of ``dataset``: affected buyers ranked again, every other list kept.

    Parameters
    ----------
    state : RankingState
        The lists before the change.
    dataset : Dataset
        The data after it.
    affected : set of str, optional
        The buyers to rank again; default :func:`affected_buyers` (a smaller set gives wrong
        lists: tests use it to show that each rule is needed).

    Returns
    -------
    RankingState
        Equal to :func:`full_rankings` of ``dataset`` with ``state.frozen``.
    """
    index, snap = state.frozen.bind(dataset)
    path = _path(state.matcher, index, snap)
    why: dict[str, int] = {}
    if affected is None:
        rules = affected_by_rule(state, index, snap)
        why = {rule: int(found.sum()) for rule, found in rules.items()}
        mask = np.logical_or.reduce(list(rules.values()))
    else:
        mask = index.buyer_ids.isin(list(affected))
    active = positions_mask(index.n_buyers, path.active_buyers())
    b_old = state.index.buyer_ids.get_indexer(index.buyer_ids)
    was_ranked = (b_old >= 0) & state.ranked[np.maximum(b_old, 0)]
    todo = np.flatnonzero(active & (mask | ~was_ranked))
    kept = active & ~mask & was_ranked
    fresh, counts, cand, nbr, dnbr, fallback, cut = _rank(path, todo, state.k, state.lang)

    # The kept rows, laid out on the current positions of buyers, suppliers and demand rows.
    b_new = index.buyer_ids.get_indexer(state.index.buyer_ids)
    s_new = index.supplier_ids.get_indexer(state.index.supplier_ids)
    old = state.rows[
        kept[np.maximum(b_new[state.rows["buyer"].to_numpy()], 0)]
        & (b_new[state.rows["buyer"].to_numpy()] >= 0)
    ].copy()
    old["buyer"] = b_new[old["buyer"].to_numpy()]
    old["supplier"] = s_new[old["supplier"].to_numpy()]
    dem = old["demand_row"].to_numpy().copy()
    at = np.flatnonzero(dem >= 0)
    dem[at] = demand_row_map(state.index, index)[dem[at]]
    old["demand_row"] = dem
    merged = pd.concat([old, fresh], ignore_index=True)
    order = np.lexsort((merged["rank"].to_numpy(), merged["buyer"].to_numpy()))
    merged = merged.iloc[order].reset_index(drop=True)

    rows = np.where(kept, b_old, -1)
    s_old = state.index.supplier_ids.get_indexer(index.supplier_ids)
    old_fallback = state.fallback[np.maximum(b_old, 0)] & kept
    old_counts = np.where(kept, state.counts[np.maximum(b_old, 0)], 0)
    return RankingState(
        state.matcher,
        state.frozen,
        index,
        snap,
        state.k,
        state.lang,
        merged,
        np.where(kept, old_counts, counts),
        active,
        (realigned(state.candidates, rows, s_old) + cand).tocsr(),
        (realigned(state.neighbours, rows, b_old) + nbr).tocsr(),
        (realigned(state.demand_neighbours, rows, b_old) + dnbr).tocsr(),
        old_fallback | fallback,
        np.where(kept, state.cut[np.maximum(b_old, 0)], cut),
        todo,
        why,
    )


def served_matcher(state: RankingState, dataset: graph.Dataset, fingerprint: str) -> Matcher:
    """A copy of ``state``'s scorer bound to ``dataset`` (the state's data) and answering from
    the state's lists: its answer cache holds what ``Matcher.precompute`` would, for every
    ranked buyer, without ranking one of them again.

    Parameters
    ----------
    state : RankingState
        Made with ``k`` = the settings' ``precompute_k``, as the cache keeps.
    dataset : Dataset
        The data the state was made from.
    fingerprint : str
        ``dataset.fingerprint()``.
    """
    bound = copy.copy(state.matcher)
    bound.dataset_ = dataset
    bound.index_ = state.index
    bound.snapshot_ = state.snapshot
    bound.data_fingerprint_ = fingerprint
    rows = state.rows
    cache: dict[int, dict[str, object]] = {
        int(b): {"ranked": rows.iloc[:0], "complete": True} for b in np.flatnonzero(state.ranked)
    }
    for b, at in rows.groupby("buyer").indices.items():
        cache[int(b)] = {
            "ranked": rows.iloc[at].reset_index(drop=True),
            "complete": int(state.counts[b]) <= state.k,
        }
    bound.rankings_ = cache  # type: ignore[assignment]
    return bound
