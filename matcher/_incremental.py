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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ketnoi import graph
from ketnoi.matcher import _features
from ketnoi.matcher._features import top_per_row
from ketnoi.matcher._frozen import FrozenGlobals, realigned
from ketnoi.matcher._index import FirmIndex, LinkSnapshot
from ketnoi.matcher._ranking import RankingPath

if TYPE_CHECKING:
    from ketnoi.matcher._model import Matcher

__all__ = ["RULES", "RankingState", "affected_buyers", "full_rankings", "rescore"]

#: Why a buyer is rescored, one entry per dependency of a buyer's list on the data.
RULES: dict[str, str] = {
    "own rows": "its own links, demands, needs, outcomes or profile changed, or it is new",
    "shared suppliers": "it buys from a supplier whose buyers changed (its similarities move)",
    "graph neighbours": "a buyer whose links changed is among its most similar buyers",
    "demand neighbours": "a buyer whose links changed is among its buyers with shared needs",
    "shared needs": "it needs a category that a changed buyer's needs gained or lost",
    "category fit": "it needs a category (or a related one) a supplier's offer gained or lost",
    "candidates": "a supplier that changed (links, offer, capacity, profile) is its candidate",
    "could be candidates": "a supplier whose listing changed could enter its candidates",
    "fallback": "it has no candidates of its own; the most-linked listed suppliers changed",
    "everyone": "a change every buyer reads: the most-linked supplier or an EASE column left",
}


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
    lists : DataFrame
        The top ``k`` of every ranked buyer (the columns of ``RankingPath.to_frame``), by
        buyer position then rank.
    ranked : bool array
        Per buyer position: in the lists (every active buyer).
    candidates, neighbours, demand_neighbours : csr_matrix
        Buyers x suppliers candidates (before hard rules); buyers x buyers most similar by
        suppliers and by needs. Rows of ranked buyers only.
    fallback : bool array
        Per buyer: no candidates of its own (it took the most-linked suppliers).
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
    lists: pd.DataFrame
    ranked: np.ndarray
    candidates: sp.csr_matrix
    neighbours: sp.csr_matrix
    demand_neighbours: sp.csr_matrix
    fallback: np.ndarray
    rescored: np.ndarray
    why: dict[str, int] = field(default_factory=dict)

    @property
    def path(self) -> RankingPath:
        return _path(self.matcher, self.index, self.snapshot)


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
) -> tuple[pd.DataFrame, sp.csr_matrix, sp.csr_matrix, sp.csr_matrix, np.ndarray]:
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
    for batch in path.batches(buyers):
        signals = path.signals(batch)
        cb, cs = path.candidates(signals)
        parts.append(path.scored(signals, cb, cs))
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
    frame = path.to_frame(ranked[ranked["rank"].to_numpy() <= k], lang)
    return (
        frame,
        _binary(*cand, (n_b, n_s)),
        _binary(*nbr, (n_b, n_b)),
        _binary(*dnbr, (n_b, n_b)),
        fallback,
    )


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
    frame, cand, nbr, dnbr, fallback = _rank(path, buyers, k, lang)
    ranked = np.zeros(index.n_buyers, dtype=bool)
    ranked[buyers] = True
    return RankingState(
        m, frozen, index, snap, k, lang, frame, ranked, cand, nbr, dnbr, fallback, buyers
    )


# -- what changed -----------------------------------------------------------------------------
def _changed(now: sp.spmatrix, before: sp.spmatrix) -> sp.coo_matrix:
    diff = (sp.csr_matrix(now) - sp.csr_matrix(before)).tocoo()
    keep = diff.data != 0
    return sp.coo_matrix((diff.data[keep], (diff.row[keep], diff.col[keep])), shape=diff.shape)


def _mask(n: int, positions: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    positions = np.asarray(positions, dtype=np.int64)
    out[positions[positions >= 0]] = True
    return out


def _rows_with(matrix: sp.spmatrix, cols: np.ndarray) -> np.ndarray:
    """Rows with an entry in any of ``cols`` (a boolean column mask)."""
    if not cols.any():
        return np.zeros(0, dtype=np.int64)
    return np.unique(sp.csc_matrix(matrix)[:, np.flatnonzero(cols)].tocoo().row)


def _text(values: pd.Series | np.ndarray) -> np.ndarray:
    """Values as strings, missing ones included (pandas' ``astype(str)`` keeps them missing)."""
    return np.array([str(v) for v in np.asarray(values, dtype=object)], dtype=object)


def _firm_rows(firms: pd.DataFrame) -> pd.Series:
    """Each firm's row as one string, to find the firms whose profile changed."""
    text = np.full(len(firms), "", dtype=object)
    for column in firms.columns:
        text = text + "\x1f" + _text(firms[column])
    return pd.Series(text, index=firms.index)


def _demand_rows(index: FirmIndex) -> pd.Series:
    """Each buyer's demand rows (filed and implied, in order) as one string, by buyer id."""
    rows = index.demand_rows
    if rows.empty:
        return pd.Series(dtype=object)
    text = _text(index.category_ids.to_numpy()[rows["category"].to_numpy()])
    for column in ("volume", "required_certifications", "required_processes", "confidential"):
        text = text + "|" + _text(rows[column])
    text = text + "|" + _text(rows["source"])
    ids = index.buyer_ids.to_numpy()[rows["buyer"].to_numpy()]
    return pd.Series(text, index=ids).groupby(level=0, sort=False).agg("\n".join)


def _differs(before: pd.Series, now: pd.Series) -> set[str]:
    """Ids in both whose value differs, and ids in only one."""
    common = before.index.intersection(now.index)
    differ = before.loc[common].to_numpy() != now.loc[common].to_numpy()
    return (
        set(common[differ])
        | set(before.index.difference(now.index))
        | set(now.index.difference(before.index))
    )


def _affected(state: RankingState, index: FirmIndex, snap: LinkSnapshot) -> dict[str, np.ndarray]:
    """Per rule of :data:`RULES`, the buyers (a mask over ``index``'s buyers) it rescores."""
    old, before = state.index, state.snapshot
    n_b = index.n_buyers
    b_old = old.buyer_ids.get_indexer(index.buyer_ids)  # current position -> earlier, or -1
    s_old = old.supplier_ids.get_indexer(index.supplier_ids)
    b_new = index.buyer_ids.get_indexer(old.buyer_ids)  # earlier position -> current, or -1
    s_new = index.supplier_ids.get_indexer(old.supplier_ids)
    gone_b, gone_s = b_new < 0, s_new < 0
    cats = np.arange(index.n_categories)

    def now(rows: np.ndarray) -> np.ndarray:
        """Earlier buyer positions as a mask over the current buyers."""
        return _mask(n_b, b_new[np.asarray(rows, dtype=np.int64)])

    out: dict[str, np.ndarray] = {}
    # Links: the entries that differ, then what the firms that left held.
    d_links = _changed(snap.links, realigned(before.links, b_old, s_old))
    left = before.links[np.flatnonzero(gone_b)].tocoo()
    sup_changed_old = _mask(old.n_suppliers, s_old[d_links.col]) | gone_s
    sup_changed_old[left.col] = True
    sup_changed_now = _mask(index.n_suppliers, d_links.col) | _mask(
        index.n_suppliers, s_new[sup_changed_old]
    )
    buy_changed_old = _mask(old.n_buyers, b_old[d_links.row]) | gone_b
    buy_changed_old[_rows_with(before.links, gone_s)] = True

    # Own rows: links, active links, needs, outcomes, demand rows, profile; new buyers.
    own = _mask(n_b, d_links.row) | now(np.flatnonzero(buy_changed_old)) | (b_old < 0)
    for name in ("active", "needs", "outcome_good", "outcome_declined"):
        cols = cats if name == "needs" else s_old
        diff = _changed(getattr(snap, name), realigned(getattr(before, name), b_old, cols))
        own[diff.row] = True
    changed_buyers = _differs(_demand_rows(old), _demand_rows(index))
    firms_changed = _differs(_firm_rows(old.firms), _firm_rows(index.firms))
    own |= index.buyer_ids.isin(changed_buyers | firms_changed)
    out["own rows"] = own

    out["shared suppliers"] = _mask(n_b, _rows_with(snap.links, sup_changed_now)) | now(
        _rows_with(before.links, sup_changed_old)
    )
    for rule, lists in (
        ("graph neighbours", state.neighbours),
        ("demand neighbours", state.demand_neighbours),
    ):
        out[rule] = now(_rows_with(lists, buy_changed_old))

    def needing(categories: np.ndarray) -> np.ndarray:
        return _mask(n_b, _rows_with(snap.needs, categories)) | now(
            _rows_with(before.needs, categories)
        )

    d_needs = _changed(snap.needs, realigned(before.needs, b_old, cats))
    need_cats = _mask(index.n_categories, d_needs.col)
    need_cats[before.needs[np.flatnonzero(gone_b)].indices] = True
    out["shared needs"] = needing(need_cats)

    d_offers = _changed(snap.offers, realigned(before.offers, s_old, cats))
    offer_cats = _mask(index.n_categories, d_offers.col)
    offer_cats[before.offers[np.flatnonzero(gone_s)].indices] = True
    out["category fit"] = needing(_with_related(index, offer_cats))

    # Suppliers whose own data changed: every buyer with one among its candidates.
    d_caps = _changed(index.capability, realigned(old.capability, s_old, cats))
    changed_old = sup_changed_old | _mask(
        old.n_suppliers, s_old[np.concatenate([d_offers.row, d_caps.row])]
    )
    changed_old |= old.supplier_ids.isin(firms_changed)
    out["candidates"] = now(_rows_with(state.candidates, changed_old))

    # A listing that changes (or a supplier that comes or goes) moves who is eligible.
    listed_old = old.listed_supplier[np.maximum(s_old, 0)]
    relisted = (s_old >= 0) & (listed_old != index.listed_supplier)
    relisted_old = _mask(old.n_suppliers, s_old[relisted])
    could = np.zeros(n_b, dtype=bool)
    if relisted.any():
        offered = np.unique(snap.offers[np.flatnonzero(relisted)].indices)
        could |= needing(_with_related(index, _mask(index.n_categories, offered)))
        buyers_of = _mask(old.n_buyers, _rows_with(before.links, relisted_old))
        could |= now(_rows_with(state.neighbours, buyers_of))
        could |= now(_rows_with(state.demand_neighbours, buyers_of))
    out["could be candidates"] = could
    roster = bool(relisted.any() or gone_s.any() or (s_old < 0).any())
    out["fallback"] = now(np.flatnonzero(state.fallback)) if roster else np.zeros(n_b, bool)

    # Global reads: popularity is scaled by the largest degree; EASE ranks a buyer's
    # eligible suppliers among all the columns it covers; RP3beta shares sum over suppliers.
    everyone = _top_supplier_left(before, snap)
    if before.ease is not None:
        covered = _mask(old.n_suppliers, before.ease.columns)
        everyone |= bool((covered & (gone_s | relisted_old)).any())
    if before.rp3 is not None and gone_s.any():
        everyone = True
    out["everyone"] = np.full(n_b, everyone, dtype=bool)
    return out


def _with_related(index: FirmIndex, categories: np.ndarray) -> np.ndarray:
    """Categories and the ones related to them in the tree (a need of either fits)."""
    if not categories.any():
        return categories
    related = index.related[np.flatnonzero(categories)]
    out = categories.copy()
    out[related.indices] = True
    return out


def _top_supplier_left(before: LinkSnapshot, snap: LinkSnapshot) -> bool:
    """Whether the most-linked supplier left: popularity is scaled by the largest degree."""
    was = float(before.supplier_degree.max()) if before.supplier_degree.size else 0.0
    is_ = float(snap.supplier_degree.max()) if snap.supplier_degree.size else 0.0
    return was != is_


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
    rules = _affected(state, index, snap)
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
        rules = _affected(state, index, snap)
        why = {rule: int(found.sum()) for rule, found in rules.items()}
        mask = np.logical_or.reduce(list(rules.values()))
    else:
        mask = index.buyer_ids.isin(list(affected))
    active = _mask(index.n_buyers, path.active_buyers())
    b_old = state.index.buyer_ids.get_indexer(index.buyer_ids)
    was_ranked = (b_old >= 0) & state.ranked[np.maximum(b_old, 0)]
    todo = np.flatnonzero(active & (mask | ~was_ranked))
    kept = active & ~mask & was_ranked
    frame, cand, nbr, dnbr, fallback = _rank(path, todo, state.k, state.lang)

    ids = index.buyer_ids
    old_lists = state.lists[state.lists["buyer_id"].isin(ids[kept])]
    lists = pd.concat([old_lists, frame], ignore_index=True)
    order = np.lexsort((lists["rank"].to_numpy(), ids.get_indexer(lists["buyer_id"])))
    lists = lists.iloc[order].reset_index(drop=True)

    rows = np.where(kept, b_old, -1)
    s_old = state.index.supplier_ids.get_indexer(index.supplier_ids)
    old_fallback = state.fallback[np.maximum(b_old, 0)] & kept
    return RankingState(
        state.matcher,
        state.frozen,
        index,
        snap,
        state.k,
        state.lang,
        lists,
        active,
        (realigned(state.candidates, rows, s_old) + cand).tocsr(),
        (realigned(state.neighbours, rows, b_old) + nbr).tocsr(),
        (realigned(state.demand_neighbours, rows, b_old) + dnbr).tocsr(),
        old_fallback | fallback,
        todo,
        why,
    )
