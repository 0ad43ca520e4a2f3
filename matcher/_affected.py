"""What changed between two versions of the data, and which buyers' lists it can touch.

The rules of incremental rescoring (:mod:`matcher._incremental`): each follows one dependency
of a buyer's list on the data back from a change to the buyers that read it. Changes are found
by comparing the two versions by id (firms, links, demands, offers, outcomes), so they may be
any number of edits together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ketnoi.matcher._frozen import realigned
from ketnoi.matcher._index import FirmIndex, LinkSnapshot

if TYPE_CHECKING:
    from ketnoi.matcher._incremental import RankingState

__all__ = ["RULES", "affected_by_rule", "demand_row_map", "positions_mask"]

#: Why a buyer is rescored, one entry per dependency of a buyer's list on the data.
RULES: dict[str, str] = {
    "own rows": "its own links, demands, needs, outcomes or profile changed, or it is new",
    "shared suppliers": "it buys from a supplier whose buyers changed (its similarities move)",
    "graph neighbours": "a most similar buyer gained a link that may join its candidates",
    "demand neighbours": "a buyer with shared needs gained a link that may join its candidates",
    "shared needs": "it needs a category that a changed buyer's needs gained or lost",
    "category fit": "it needs a category (or a related one) a supplier's offer gained or lost",
    "candidates": "a candidate's offer, capacity or profile changed, or its buyers changed and it"
    " is similar to the changed buyer",
    "could be candidates": "a supplier whose listing changed could enter its candidates",
    "fallback": "it has no candidates of its own; the most-linked listed suppliers changed",
    "everyone": "a change every buyer reads: the most-linked supplier or an EASE column left",
}


def _changed(now: sp.spmatrix, before: sp.spmatrix) -> sp.coo_matrix:
    diff = (sp.csr_matrix(now) - sp.csr_matrix(before)).tocoo()
    keep = diff.data != 0
    return sp.coo_matrix((diff.data[keep], (diff.row[keep], diff.col[keep])), shape=diff.shape)


def positions_mask(n: int, positions: np.ndarray) -> np.ndarray:
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


def affected_by_rule(
    state: RankingState, index: FirmIndex, snap: LinkSnapshot
) -> dict[str, np.ndarray]:
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
        return positions_mask(n_b, b_new[np.asarray(rows, dtype=np.int64)])

    out: dict[str, np.ndarray] = {}
    # Links: the entries that differ, then what the firms that left held.
    d_links = _changed(snap.links, realigned(before.links, b_old, s_old))
    left = before.links[np.flatnonzero(gone_b)].tocoo()
    sup_changed_old = positions_mask(old.n_suppliers, s_old[d_links.col]) | gone_s
    sup_changed_old[left.col] = True
    sup_changed_now = positions_mask(index.n_suppliers, d_links.col) | positions_mask(
        index.n_suppliers, s_new[sup_changed_old]
    )
    buy_changed_old = positions_mask(old.n_buyers, b_old[d_links.row]) | gone_b
    buy_changed_old[_rows_with(before.links, gone_s)] = True

    # Own rows: links, active links, needs, outcomes, demand rows, profile; new buyers.
    own = positions_mask(n_b, d_links.row) | now(np.flatnonzero(buy_changed_old)) | (b_old < 0)
    for name in ("active", "needs", "outcome_good", "outcome_declined"):
        cols = cats if name == "needs" else s_old
        diff = _changed(getattr(snap, name), realigned(getattr(before, name), b_old, cols))
        own[diff.row] = True
    changed_buyers = _differs(_demand_rows(old), _demand_rows(index))
    firms_changed = _differs(_firm_rows(old.firms), _firm_rows(index.firms))
    own |= index.buyer_ids.isin(changed_buyers | firms_changed)
    out["own rows"] = own

    out["shared suppliers"] = positions_mask(n_b, _rows_with(snap.links, sup_changed_now)) | now(
        _rows_with(before.links, sup_changed_old)
    )
    # Links of firms that left are followed whole; the other link entries one by one.
    whole_b = gone_b | positions_mask(old.n_buyers, _rows_with(before.links, gone_s))
    whole_s = gone_s.copy()
    whole_s[left.col] = True
    lists = _Lists(state, index, snap, b_old, s_old)
    for rule, reverse in (
        ("graph neighbours", state.neighbours),
        ("demand neighbours", state.demand_neighbours),
    ):
        out[rule] = now(_rows_with(reverse, whole_b)) | lists.entering(d_links, rule)

    def needing(categories: np.ndarray) -> np.ndarray:
        return positions_mask(n_b, _rows_with(snap.needs, categories)) | now(
            _rows_with(before.needs, categories)
        )

    d_needs = _changed(snap.needs, realigned(before.needs, b_old, cats))
    need_cats = positions_mask(index.n_categories, d_needs.col)
    need_cats[before.needs[np.flatnonzero(gone_b)].indices] = True
    out["shared needs"] = needing(need_cats)

    d_offers = _changed(snap.offers, realigned(before.offers, s_old, cats))
    offer_cats = positions_mask(index.n_categories, d_offers.col)
    offer_cats[before.offers[np.flatnonzero(gone_s)].indices] = True
    out["category fit"] = needing(_with_related(index, offer_cats))

    # Suppliers whose own data changed (offer, capacity, profile) or that left: every buyer
    # with one among its candidates; a changed link, the candidates' buyers similar to it.
    d_caps = _changed(index.capability, realigned(old.capability, s_old, cats))
    profile_old = positions_mask(old.n_suppliers, s_old[np.concatenate([d_offers.row, d_caps.row])])
    profile_old |= old.supplier_ids.isin(firms_changed)
    out["candidates"] = now(_rows_with(state.candidates, profile_old | whole_s))
    out["candidates"] |= lists.readers(d_links)

    # A listing that changes (or a supplier that comes or goes) moves who is eligible.
    listed_old = old.listed_supplier[np.maximum(s_old, 0)]
    relisted = (s_old >= 0) & (listed_old != index.listed_supplier)
    relisted_old = positions_mask(old.n_suppliers, s_old[relisted])
    could = np.zeros(n_b, dtype=bool)
    if relisted.any():
        offered = np.unique(snap.offers[np.flatnonzero(relisted)].indices)
        could |= needing(_with_related(index, positions_mask(index.n_categories, offered)))
        buyers_of = positions_mask(old.n_buyers, _rows_with(before.links, relisted_old))
        could |= now(_rows_with(state.neighbours, buyers_of))
        could |= now(_rows_with(state.demand_neighbours, buyers_of))
    out["could be candidates"] = could
    roster = bool(relisted.any() or gone_s.any() or (s_old < 0).any())
    out["fallback"] = now(np.flatnonzero(state.fallback)) if roster else np.zeros(n_b, bool)

    # Global reads: popularity is scaled by the largest degree; EASE ranks a buyer's
    # eligible suppliers among all the columns it covers; RP3beta shares sum over suppliers.
    everyone = _top_supplier_left(before, snap)
    if before.ease is not None:
        covered = positions_mask(old.n_suppliers, before.ease.columns)
        everyone |= bool((covered & (gone_s | relisted_old)).any())
    if before.rp3 is not None and gone_s.any():
        everyone = True
    out["everyone"] = np.full(n_b, everyone, dtype=bool)
    return out


class _Lists:
    """The state's lists laid out on the current buyers, and the two link rules that read them.

    A link entry ``(y, t)`` (added or removed) changes what buyer ``x`` reads of supplier
    ``t`` only through ``x``'s similarity to ``y`` (common suppliers, common needs), and
    changes ``x``'s candidates only where ``y`` is one of ``x``'s most similar buyers and ``t``
    newly reaches its bar (a removed link only lowers a candidate's pre-ranking score, and a
    candidate whose score moves is caught by :meth:`readers`).
    """

    def __init__(
        self,
        state: RankingState,
        index: FirmIndex,
        snap: LinkSnapshot,
        b_old: np.ndarray,
        s_old: np.ndarray,
    ) -> None:
        self.snap, self.index = snap, index
        rows = np.where(b_old >= 0, b_old, -1)
        self.candidates = realigned(state.candidates, rows, s_old).tocsc()
        self.lists = {
            "graph neighbours": realigned(state.neighbours, rows, b_old),
            "demand neighbours": realigned(state.demand_neighbours, rows, b_old),
        }
        self.reverse = {rule: m.tocsc() for rule, m in self.lists.items()}
        self.cut = np.where(b_old >= 0, state.cut[np.maximum(b_old, 0)], -np.inf)
        self.fallback = (b_old >= 0) & state.fallback[np.maximum(b_old, 0)]
        self.by_supplier = snap.links.T.tocsr()

    def _pairs(self, matrix: sp.csc_matrix, entries: np.ndarray, cols: np.ndarray):  # type: ignore[no-untyped-def]
        """Per entry ``e``, the rows of ``matrix``'s column ``cols[e]``: (entry, row) pairs."""
        starts, ends = matrix.indptr[cols], matrix.indptr[cols + 1]
        counts = ends - starts
        entry = np.repeat(entries, counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return entry, matrix.indices[np.repeat(starts, counts) + within].astype(np.int64)

    def readers(self, d_links: sp.coo_matrix) -> np.ndarray:
        """Buyers with ``t`` among their candidates and some similarity to ``y``."""
        out = np.zeros(self.index.n_buyers, dtype=bool)
        if d_links.nnz == 0:
            return out
        e, x = self._pairs(self.candidates, np.arange(d_links.nnz), d_links.col)
        y = d_links.row[e]
        a, needs = self.snap.links, self.snap.needs
        similar = np.asarray(a[x].multiply(a[y]).sum(axis=1)).ravel() > 0
        similar |= np.asarray(needs[x].multiply(needs[y]).sum(axis=1)).ravel() > 0
        out[x[similar]] = True
        return out

    def entering(self, d_links: sp.coo_matrix, rule: str) -> np.ndarray:
        """Buyers with ``y`` among their most similar whose candidates ``t`` may now join."""
        out = np.zeros(self.index.n_buyers, dtype=bool)
        added = np.flatnonzero(d_links.data > 0)
        if not len(added):
            return out
        e, x = self._pairs(self.reverse[rule], added, d_links.row[added])
        if not len(x):
            return out
        t = d_links.col[e]
        new = np.asarray(self.candidates[x, t]).ravel() == 0
        x, t = x[new], t[new]
        if not len(x):
            return out
        bar = self.cut[x]
        joins = self.fallback[x] | ~np.isfinite(bar)
        joins |= self._prerank(x, t) >= bar - 1e-9
        out[x[joins]] = True
        return out

    def _prerank(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The pre-ranking score of pairs, as candidate_pairs computes it (``_prerank`` plus
        popularity), from the current links and the state's neighbour lists."""
        snap, index = self.snap, self.index
        a, at = snap.links, self.by_supplier
        offers_t = snap.offers[t]
        exact = np.asarray(snap.needs[x].multiply(offers_t).sum(axis=1)).ravel() > 0
        near = snap.needs[x] @ index.related
        related = np.asarray(near.multiply(offers_t).sum(axis=1)).ravel() > 0
        shared = (a[x] @ a.T).multiply(self.lists["graph neighbours"][x])
        reach = np.asarray(sp.csr_matrix(shared).multiply(at[t]).sum(axis=1)).ravel()
        peers = self.lists["demand neighbours"][x]
        demand = np.asarray(peers.multiply(at[t]).sum(axis=1)).ravel()
        popularity = np.log1p(np.maximum(snap.supplier_degree, 0.0))
        top = popularity.max() if len(popularity) else 0.0
        scale = popularity / top if top > 0 else popularity
        return (
            3.0 * exact
            + 1.5 * (related & ~exact)
            + np.log1p(reach)
            + 0.5 * np.log1p(demand)
            + 0.2 * scale[t]
        )


def demand_row_map(before: FirmIndex, now: FirmIndex) -> np.ndarray:
    """Per earlier demand row, its position now (-1: gone), matched by buyer id and its place
    among the buyer's rows (a kept buyer's rows are the same rows in the same order)."""

    def keyed(index: FirmIndex) -> pd.DataFrame:
        buyer = index.buyer_ids.to_numpy()[index.demand_rows["buyer"].to_numpy()]
        frame = pd.DataFrame({"buyer": buyer, "at": np.arange(len(buyer))})
        frame["nth"] = frame.groupby("buyer").cumcount()
        return frame

    merged = keyed(before).merge(keyed(now), on=["buyer", "nth"], how="left", suffixes=("", "_now"))
    out = np.full(len(before.demand_rows), -1, dtype=np.int64)
    found = merged["at_now"].notna().to_numpy()
    out[merged["at"].to_numpy()[found]] = merged["at_now"].to_numpy()[found].astype(np.int64)
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
