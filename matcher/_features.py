"""Candidate generation and pair features, vectorised over batches of buyers.

Candidates first, scores second (splink's blocking then comparisons): for a batch of buyers the
link-graph products and category-fit counts are computed once as sparse matrices; candidate
generation reads them to pick at most ``max_candidates`` suppliers per buyer, and the features of
any (buyer, supplier) pair are gathered from the same matrices.

Graph signals on the bipartite supplier-buyer graph ``A`` (buyers x suppliers) are all weighted
counts of length-3 paths ``b - s' - b' - s``: a supplier and a buyer share no neighbours, so the
usual common-neighbour indices are taken on the buyer-buyer and supplier-supplier projections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ketnoi.matcher._ease_features import ease_block, ease_pair_values
from ketnoi.matcher._index import FirmIndex, LinkSnapshot, haversine_km

__all__ = [
    "COLLABORATIVE_CANDIDATES",
    "FEATURES",
    "GRAPH_FEATURES",
    "PROFILE_FEATURES",
    "BatchSignals",
    "batch_size",
    "candidate_pairs",
    "pair_features",
    "top_per_row",
]

#: Feature names in the order the scorer sees them, with what each means.
FEATURES: dict[str, str] = {
    "fit_level": "2 = makes a demanded category, 1 = a sibling/parent of one, 0 = none",
    "taxonomy_distance": "hops through the category tree between the nearest offered and needed",
    "demand_source": "1 = filed demand, 0.5 = implied by bill of materials or past purchases",
    "required_certs_met": "share of the matched demand's required certifications held (1 if none)",
    "required_processes_met": "share of the matched demand's required processes held (1 if none)",
    "n_certifications": "certifications the supplier holds",
    "n_international_certs": "international-standard certifications held",
    "distance_km": "great-circle distance between the firms (NaN if unknown)",
    "same_park": "1 when both are in the same park",
    "capacity_ratio": "log10 of capacity in the matched category over demanded volume",
    "log_employees": "log(1 + employees) of the supplier",
    "supplier_age": "years since the supplier was founded",
    "text_similarity": "TF-IDF cosine of the supplier's description and the needed categories",
    "supplier_popularity": "log(1 + buyers supplied)",
    "buyer_activity": "log(1 + suppliers of the buyer)",
    "l3_paths": "log(1 + length-3 paths buyer-supplier'-buyer'-supplier)",
    "l3_normalised": "length-3 paths weighted by 1/sqrt(degrees) of the middle firms",
    "similar_buyers_aa": "Adamic-Adar similarity of this buyer to the supplier's buyers",
    "similar_suppliers_aa": "Adamic-Adar similarity of the supplier to this buyer's suppliers",
    "l3_share": "length-3 paths to this supplier as a share of all the buyer's length-3 paths",
    "similar_buyers_share": "similar_buyers_aa as a share of the buyer's total over suppliers",
    "similar_demand_buyers": "log(1 + buyers with a shared need that the supplier supplies)",
    "same_origin_buyers": "log(1 + buyers of the buyer's country of origin supplied)",
    "same_sector_buyers": "log(1 + buyers of the buyer's sector supplied)",
    "ease_score": "EASE score: how strongly buyers that source like this one buy from it",
    "ease_rank": "log(1 + the supplier's rank in the buyer's EASE list, 1 = first)",
    "rp3_score": "RP3beta walk score: buyer -> its suppliers -> their buyers -> this supplier",
    "rp3_share": "rp3_score as a share of the buyer's total over suppliers",
    "outcome_good": "1 when an earlier outcome for the pair was met/negotiating/contracted",
    "outcome_declined": "1 when an earlier outcome for the pair was declined",
}


#: Features read from the firms' profiles, demands and outcomes, not from the link graph: what a
#: ranker has for a firm without links.
PROFILE_FEATURES: tuple[str, ...] = (
    "fit_level",
    "taxonomy_distance",
    "demand_source",
    "required_certs_met",
    "required_processes_met",
    "n_certifications",
    "n_international_certs",
    "distance_km",
    "same_park",
    "capacity_ratio",
    "log_employees",
    "supplier_age",
    "text_similarity",
    "outcome_good",
    "outcome_declined",
)
#: Features read from the link graph (degrees, paths, collaborative scores).
GRAPH_FEATURES: tuple[str, ...] = tuple(f for f in FEATURES if f not in PROFILE_FEATURES)

#: Each buyer's best suppliers by EASE that join its candidates whatever the pre-ranking says.
COLLABORATIVE_CANDIDATES = 100


def _log1p(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.maximum(x, 0.0))


def _aa_weight(degree: np.ndarray) -> np.ndarray:
    # Adamic-Adar weights 1/log(k); a firm with one link is only its own common neighbour.
    w = np.zeros_like(degree, dtype=float)
    many = degree > 1
    w[many] = 1.0 / np.log(degree[many])
    return w


def _gather(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    if len(rows) == 0:
        return np.zeros(0)
    return np.asarray(matrix[rows, cols]).ravel().astype(float)


#: How many most-similar buyers feed a buyer's graph candidates ("suppliers of buyers that
#: resemble this buyer") on networks with more buyers than ``ALL_NEIGHBOURS_UP_TO``; it bounds
#: candidate generation on large networks. Smaller networks use every similar buyer.
NEIGHBOUR_BUYERS = 100
ALL_NEIGHBOURS_UP_TO = 2_000


def batch_size(n_buyers: int) -> int:
    """Buyers per batch: dense batch x buyers blocks stay near 4 million cells."""
    return int(np.clip(4_000_000 // max(n_buyers, 1), 16, 256))


@dataclass(eq=False)
class BatchSignals:
    """Signals for one batch of buyers on one snapshot.

    Category fit is kept as sparse batch x suppliers counts. Path signals are kept as dense
    batch x buyers blocks (suppliers shared with every other buyer, plainly and with
    Adamic-Adar and degree weights): a pair's value is a sum over the supplier's own buyers,
    gathered per pair, so no batch x suppliers path product is ever formed.
    """

    buyers: np.ndarray
    exact: sp.csr_matrix
    related: sp.csr_matrix
    shared: np.ndarray  # batch x buyers: common suppliers (self included)
    shared_aa: np.ndarray  # batch x buyers: common suppliers weighted 1/log(degree)
    shared_norm: np.ndarray  # batch x buyers: common suppliers weighted 1/sqrt(degree)
    demand_peers: np.ndarray  # batch x buyers: needs in common
    graph_reach: sp.csr_matrix  # batch x suppliers: reached through the most similar buyers
    l3_total: np.ndarray  # per batch buyer: length-3 paths to all suppliers (not via itself)
    aa_total: np.ndarray  # per batch buyer: similar_buyers_aa summed over all suppliers
    demand_reach: sp.csr_matrix  # batch x suppliers: supplying buyers with shared needs
    # EASE over the suppliers it covers (None where the snapshot has no EASE): raw scores,
    # each row's eligible scores sorted ascending (for ranks), and the best per row.
    ease_scores: np.ndarray | None = None
    ease_sorted: np.ndarray | None = None
    ease_top: list[np.ndarray] | None = None
    rp3: sp.csr_matrix | None = None  # batch x suppliers RP3beta scores

    @classmethod
    def compute(cls, index: FirmIndex, snap: LinkSnapshot, buyers: np.ndarray) -> BatchSignals:
        a = snap.links
        rows = a[buyers]
        needs = snap.needs[buyers]
        offers_t = snap.offers.T.tocsr()
        exact = (needs @ offers_t).tocsr()
        related = (needs @ index.related @ offers_t).tocsr()

        ks = snap.supplier_degree
        inv_sqrt_s = np.where(ks > 0, 1.0 / np.sqrt(np.maximum(ks, 1)), 0.0)
        a_t = a.T.tocsr()
        shared = _dense(rows @ a_t)
        shared_aa = _dense(rows @ sp.diags(_aa_weight(ks)) @ a_t)
        shared_norm = _dense(rows @ sp.diags(inv_sqrt_s) @ a_t)
        peers = _dense(needs @ snap.needs.T)
        local = np.arange(len(buyers))
        peers[local, buyers] = 0.0

        others = shared.copy()
        others[local, buyers] = 0.0
        kb = snap.buyer_degree.astype(float)
        l3_total = others @ kb
        aa_others = shared_aa.copy()
        aa_others[local, buyers] = 0.0
        aa_total = aa_others @ kb
        m = NEIGHBOUR_BUYERS if index.n_buyers > ALL_NEIGHBOURS_UP_TO else index.n_buyers
        graph_reach = (top_per_row(others, m) @ a).tocsr()
        demand_reach = (top_per_row(peers, m, binary=True) @ a).tocsr()
        ease_scores, ease_sorted, ease_top = ease_block(
            index, snap, buyers, COLLABORATIVE_CANDIDATES
        )
        return cls(
            buyers,
            exact,
            related,
            shared,
            shared_aa,
            shared_norm,
            peers,
            graph_reach,
            l3_total,
            aa_total,
            demand_reach,
            ease_scores,
            ease_sorted,
            ease_top,
            (snap.links[buyers] @ snap.rp3).tocsr() if snap.rp3 is not None else None,
        )

    def ease_features(
        self, snap: LinkSnapshot, local: np.ndarray, ps: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per pair, the EASE score and log(1 + rank) (see :func:`ease_pair_values`)."""
        return ease_pair_values(snap, self.buyers, self.ease_scores, self.ease_sorted, local, ps)

    def path_sums(
        self, snap: LinkSnapshot, local: np.ndarray, pb: np.ndarray, ps: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Per pair, the length-3 path signals: sums over the supplier's buyers ``b'``."""
        a_csc = snap.links_by_supplier
        n = len(ps)
        counts = a_csc.indptr[ps + 1] - a_csc.indptr[ps]
        pair = np.repeat(np.arange(n), counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        other = a_csc.indices[np.repeat(a_csc.indptr[ps], counts) + within]
        row = local[pair]
        not_self = other != pb[pair]
        kb = snap.buyer_degree
        inv_sqrt_b = np.where(kb > 0, 1.0 / np.sqrt(np.maximum(kb, 1)), 0.0)
        shared = self.shared[row, other]

        def total(weights: np.ndarray) -> np.ndarray:
            return np.bincount(pair, weights=weights, minlength=n).astype(float)

        return {
            "l3": total(shared),
            "l3_norm": total(self.shared_norm[row, other] * inv_sqrt_b[other]),
            "aa_buyers": total(self.shared_aa[row, other] * not_self),
            "aa_suppliers": total(shared * _aa_weight(kb)[other]),
            "shared_buyers": total((shared > 0) & not_self),
            "similar_demand": total(self.demand_peers[row, other] > 0),
        }


def _share(part: np.ndarray, total: np.ndarray) -> np.ndarray:
    return np.divide(part, total, out=np.zeros(len(part)), where=total > 0)


def _dense(matrix: sp.spmatrix) -> np.ndarray:
    return np.asarray(matrix.todense(), dtype=np.float64)


def top_per_row(block: np.ndarray, m: int, binary: bool = False) -> sp.csr_matrix:
    """Keep the ``m`` largest positive entries of each row (ties by column, lowest first).

    Ties are settled by column, not by the selection algorithm: a row then keeps the same
    neighbours when firms elsewhere in the data are added or removed (incremental rescoring
    relies on it).
    """
    if block.shape[1] > m:
        kth = -np.partition(-block, m - 1, axis=1)[:, m - 1 : m]
        above = block > kth
        tied = block == kth
        room = m - above.sum(axis=1, keepdims=True)
        block = np.where(above | (tied & (np.cumsum(tied, axis=1) <= room)), block, 0.0)
    out = sp.csr_matrix(np.where(block > 0, 1.0 if binary else block, 0.0))
    out.eliminate_zeros()
    return out


def _matched_demand(
    index: FirmIndex, snap: LinkSnapshot, pb: np.ndarray, ps: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each pair, the buyer's demand row the supplier fits best, and the fit level.

    Returns the demand row position (-1 where the buyer has no demand rows) and the level
    (2 exact, 1 related, 0 none). Ties go to the larger volume, then the filed demand.
    """
    rows = index.demand_rows
    n = len(pb)
    best = np.full(n, -1, dtype=np.int64)
    level = np.zeros(n, dtype=float)
    if rows.empty or n == 0:
        return best, level
    order = np.argsort(rows["buyer"].to_numpy(), kind="stable")
    dem_buyer = rows["buyer"].to_numpy()[order]
    starts = np.searchsorted(dem_buyer, pb, side="left")
    ends = np.searchsorted(dem_buyer, pb, side="right")
    counts = ends - starts
    pair_rep = np.repeat(np.arange(n), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    dem_pos = order[np.repeat(starts, counts) + offsets]
    cats = rows["category"].to_numpy()[dem_pos]
    sup = ps[pair_rep]
    exact = _gather(snap.offers, sup, cats) > 0
    offers_related = (snap.offers @ index.related).tocsr()
    rel = _gather(offers_related, sup, cats) > 0
    lvl = np.where(exact, 2.0, np.where(rel, 1.0, 0.0))
    volume = rows["volume"].to_numpy(dtype=float)[dem_pos]
    filed = (rows["source"].to_numpy()[dem_pos] == "demand").astype(float)
    key = lvl * 1e6 + filed * 1e5 + np.nan_to_num(np.log1p(volume), nan=0.0)
    frame = pd.DataFrame({"pair": pair_rep, "key": key, "dem": dem_pos, "lvl": lvl})
    top = frame.sort_values(["pair", "key"], ascending=[True, False]).drop_duplicates("pair")
    best[top["pair"].to_numpy()] = top["dem"].to_numpy()
    level[top["pair"].to_numpy()] = top["lvl"].to_numpy()
    return best, level


def _share_met(held: sp.csr_matrix, required: sp.csr_matrix) -> np.ndarray:
    """Row-wise share of required items held; 1 where nothing is required."""
    n_required = np.asarray(required.sum(axis=1)).ravel()
    n_held = np.asarray(held.multiply(required).sum(axis=1)).ravel()
    return np.divide(n_held, n_required, out=np.ones(len(n_required)), where=n_required > 0)


def pair_features(
    index: FirmIndex,
    snap: LinkSnapshot,
    signals: BatchSignals,
    pb: np.ndarray,
    ps: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features of (buyer, supplier) pairs whose buyers are all in ``signals.buyers``.

    Returns the feature frame (columns :data:`FEATURES`) and a frame of facts that reasons and
    hard rules use: ``demand_row`` (the matched demand, -1 where none) and ``shared_buyers``.
    """
    local = pd.Index(signals.buyers).get_indexer(pb)
    if (local < 0).any():
        raise ValueError("pair_features: a pair's buyer is not in this batch")
    dem, level = _matched_demand(index, snap, pb, ps)
    rows = index.demand_rows
    has_dem = dem >= 0
    safe = np.where(has_dem, dem, 0)

    # Category fit from the batch counts covers buyers whose needs come from links alone.
    exact = _gather(signals.exact, local, ps) > 0
    related = _gather(signals.related, local, ps) > 0
    fit = np.maximum(level, np.where(exact, 2.0, np.where(related, 1.0, 0.0)))
    filed = has_dem & (rows["source"].to_numpy()[safe] == "demand") if len(rows) else has_dem
    source = np.where(filed, 1.0, np.where(fit > 0, 0.5, 0.0))
    distance = _taxonomy_distance(index, snap, pb, ps)

    n = len(pb)
    if has_dem.any() and not rows.empty:
        no_dem = sp.diags(has_dem.astype(float))
        certs_met = _share_met(index.supplier_certs[ps], no_dem @ index.demand_certs[safe])
        procs_met = _share_met(index.supplier_processes[ps], no_dem @ index.demand_processes[safe])
        volume = np.where(has_dem, rows["volume"].to_numpy(dtype=float)[safe], np.nan)
        cats = np.where(has_dem, rows["category"].to_numpy()[safe], 0)
        capacity = np.where(has_dem, _gather(index.capability, ps, cats), 0.0)
        capacity = np.where(capacity > 0, capacity, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            cap_ratio = np.log10(capacity / volume)
        cap_ratio = np.where(np.isfinite(cap_ratio), cap_ratio, np.nan)
    else:
        certs_met = np.ones(n)
        procs_met = np.ones(n)
        cap_ratio = np.full(n, np.nan)

    km = haversine_km(
        index.buyer_lat[pb], index.buyer_lon[pb], index.supplier_lat[ps], index.supplier_lon[ps]
    )
    same_park = (index.buyer_park[pb] == index.supplier_park[ps]) & (index.buyer_park[pb] != "")

    needs_text = snap.needs[pb] @ index.category_text
    text_sim = np.asarray(needs_text.multiply(index.supplier_text[ps]).sum(axis=1)).ravel()
    norms = np.sqrt(np.asarray(needs_text.multiply(needs_text).sum(axis=1)).ravel())
    text_sim = np.divide(text_sim, norms, out=np.zeros(n), where=norms > 0)

    country = index.buyer_country[pb]
    sector = index.buyer_sector[pb]
    # The pair's own (ended) link is not evidence of homophily with *other* buyers.
    own = _gather(snap.links, pb, ps)
    paths = _paths_without_own_link(snap, signals.path_sums(snap, local, pb, ps), pb, ps, own)
    same_origin = np.where(
        country >= 0, _gather(snap.links_by_country, np.maximum(country, 0), ps) - own, 0.0
    )
    same_sector = np.where(
        sector >= 0, _gather(snap.links_by_sector, np.maximum(sector, 0), ps) - own, 0.0
    )

    ease_score, ease_rank = signals.ease_features(snap, local, ps)
    rp3_score, rp3_share = np.full(len(pb), np.nan), np.full(len(pb), np.nan)
    if signals.rp3 is not None:
        linked = snap.buyer_degree[pb] > 0
        rp3_score = np.where(linked, _gather(signals.rp3, local, ps), np.nan)
        totals = np.asarray(signals.rp3.sum(axis=1)).ravel()[local]
        rp3_share = np.where(linked, _share(np.nan_to_num(rp3_score), totals), np.nan)

    frame = pd.DataFrame(
        {
            "fit_level": fit,
            "taxonomy_distance": distance,
            "demand_source": source,
            "required_certs_met": certs_met,
            "required_processes_met": procs_met,
            "n_certifications": index.supplier_n_certs[ps],
            "n_international_certs": index.supplier_intl_certs[ps],
            "distance_km": km,
            "same_park": same_park.astype(float),
            "capacity_ratio": cap_ratio,
            "log_employees": index.supplier_log_employees[ps],
            "supplier_age": index.supplier_age[ps],
            "text_similarity": text_sim,
            "supplier_popularity": _log1p(snap.supplier_degree[ps] - own),
            "buyer_activity": _log1p(snap.buyer_degree[pb] - own),
            "l3_paths": _log1p(paths["l3"]),
            "l3_normalised": paths["l3_norm"],
            "similar_buyers_aa": paths["aa_buyers"],
            "similar_suppliers_aa": paths["aa_suppliers"],
            "l3_share": _share(paths["l3"], signals.l3_total[local]),
            "similar_buyers_share": _share(paths["aa_buyers"], signals.aa_total[local]),
            "similar_demand_buyers": _log1p(paths["similar_demand"]),
            "same_origin_buyers": _log1p(same_origin),
            "same_sector_buyers": _log1p(same_sector),
            "ease_score": ease_score,
            "ease_rank": ease_rank,
            "rp3_score": rp3_score,
            "rp3_share": rp3_share,
            "outcome_good": _gather(snap.outcome_good, pb, ps),
            "outcome_declined": _gather(snap.outcome_declined, pb, ps),
        },
        columns=list(FEATURES),
    )
    facts = pd.DataFrame({"demand_row": dem, "shared_buyers": paths["shared_buyers"]})
    return frame, facts


def _paths_without_own_link(
    snap: LinkSnapshot,
    paths: dict[str, np.ndarray],
    pb: np.ndarray,
    ps: np.ndarray,
    own: np.ndarray,
) -> dict[str, np.ndarray]:
    """Length-3 path signals of pairs, minus the paths that run through the pair's own link.

    A pair that is already linked (an ended link, or a training positive) would otherwise count
    paths ``b-s-b'-s`` and ``b-s'-b-s`` that exist only because of that link; removing them
    keeps served pairs comparable with training positives, whose own link is never in their
    snapshot.
    """
    a = snap.links
    ks, kb = snap.supplier_degree, snap.buyer_degree
    out = dict(paths)
    linked = own > 0
    if not linked.any():
        return out
    b, s = pb[linked], ps[linked]
    isq_s = np.where(ks > 0, 1.0 / np.sqrt(np.maximum(ks, 1)), 0.0)
    isq_b = np.where(kb > 0, 1.0 / np.sqrt(np.maximum(kb, 1)), 0.0)
    w_s, w_b = _aa_weight(ks), _aa_weight(kb)
    # Paths through the own link: s' = s (any buyer b' of s), b' = b (any supplier s' of b),
    # and the one path with both, counted twice above.
    via_s = np.asarray(a.T @ isq_b).ravel()[s] * isq_s[s]
    via_b = np.asarray(a @ isq_s).ravel()[b] * isq_b[b]
    both = isq_s[s] * isq_b[b]
    out["l3"][linked] -= ks[s] + kb[b] - 1
    out["l3_norm"][linked] -= via_s + via_b - both
    out["aa_buyers"][linked] -= w_s[s] * (ks[s] - 1)
    wb_of_s = np.asarray(a.T @ w_b).ravel()[s]
    out["aa_suppliers"][linked] -= wb_of_s + kb[b] * w_b[b] - w_b[b]
    for key in ("l3", "l3_norm", "aa_buyers", "aa_suppliers"):
        out[key] = np.maximum(out[key], 0.0)
    return out


def _taxonomy_distance(
    index: FirmIndex, snap: LinkSnapshot, pb: np.ndarray, ps: np.ndarray
) -> np.ndarray:
    """Per pair, the fewest hops between a category the buyer needs and one the supplier offers."""
    cap = 6.0
    n = len(pb)
    dist = index.tree_distance
    if n == 0 or dist.shape[0] != index.n_categories or index.n_categories == 0:
        return np.full(n, cap)
    needs, offers = snap.needs, snap.offers
    buyers, local = np.unique(pb, return_inverse=True)
    nearest = np.full((len(buyers), index.n_categories), cap, dtype=np.float32)
    for j, b in enumerate(buyers):
        needed = needs.indices[needs.indptr[b] : needs.indptr[b + 1]]
        if len(needed):
            nearest[j] = dist[needed].min(axis=0)
    counts = offers.indptr[ps + 1] - offers.indptr[ps]
    pair = np.repeat(np.arange(n), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    offered = offers.indices[np.repeat(offers.indptr[ps], counts) + within]
    out = np.full(n, cap)
    np.minimum.at(out, pair, nearest[local[pair], offered].astype(float))
    return out


def candidate_pairs(
    index: FirmIndex,
    snap: LinkSnapshot,
    signals: BatchSignals,
    *,
    max_candidates: int,
    exclude_existing: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate suppliers for every buyer of the batch.

    A supplier is a candidate of a buyer when it makes, or is related in the category tree to,
    something the buyer needs (category fit, bill-of-material inputs included), when the link
    graph reaches it (length-3 paths, suppliers of buyers with shared needs), when it is among
    the buyer's :data:`COLLABORATIVE_CANDIDATES` best by EASE (these always stay), or, for a buyer
    with nothing of these, when it is among the most-linked suppliers. Unlisted suppliers, the
    buyer itself and (by default) its active suppliers are never candidates.

    Returns buyer positions, supplier positions and the cheap pre-ranking score, at most
    ``max_candidates`` per buyer.
    """
    b_out, s_out, p_out = [], [], []
    popularity = _log1p(snap.supplier_degree)
    pop_scale = popularity / popularity.max() if popularity.max() > 0 else popularity
    listed = index.listed_supplier
    fallback = np.argsort(-pop_scale - 1e-9 * np.arange(len(pop_scale)), kind="stable")
    fallback = fallback[listed[fallback]]
    own_supplier = pd.Index(index.supplier_ids).get_indexer(index.buyer_ids[signals.buyers])
    pre_all = _prerank(signals)
    for row, buyer in enumerate(signals.buyers):
        start, end = pre_all.indptr[row], pre_all.indptr[row + 1]
        if end > start:
            sup = pre_all.indices[start:end].astype(np.int64)
            pre = pre_all.data[start:end] + 0.2 * pop_scale[sup]
        else:
            sup = fallback[: max_candidates + 50]
            pre = 0.2 * pop_scale[sup]
        keep = listed[sup] & (sup != own_supplier[row])
        if exclude_existing:
            active = snap.active.indices[snap.active.indptr[buyer] : snap.active.indptr[buyer + 1]]
            keep &= ~np.isin(sup, active)
        sup, pre = sup[keep], pre[keep]
        # EASE's best suppliers are candidates whatever the pre-ranking says (they are
        # eligible by construction); the pre-ranking fills the remaining places.
        extra = signals.ease_top[row] if signals.ease_top is not None else sup[:0]
        extra = extra[:max_candidates]
        if len(extra):
            rest = ~np.isin(sup, extra)
            sup, pre = sup[rest], pre[rest]
        room = max_candidates - len(extra)
        if len(sup) > room:
            top = np.lexsort((sup, -pre))[:room]
            sup, pre = sup[top], pre[top]
        if len(extra):
            sup, pre = np.concatenate([extra, sup]), np.concatenate([np.zeros(len(extra)), pre])
        b_out.append(np.full(len(sup), buyer, dtype=np.int64))
        s_out.append(sup)
        p_out.append(pre)
    if not b_out:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(b_out), np.concatenate(s_out), np.concatenate(p_out)


def _binarised(matrix: sp.csr_matrix) -> sp.csr_matrix:
    out = matrix.tocsr(copy=True)
    out.data = (out.data > 0).astype(float)
    out.eliminate_zeros()
    return out


def _prerank(signals: BatchSignals) -> sp.csr_matrix:
    """Cheap score that orders candidates: category fit first, then graph evidence."""
    exact = _binarised(signals.exact)
    related = _binarised(signals.related)
    related_only = related - related.multiply(exact)
    l3 = signals.graph_reach.tocsr(copy=True)
    l3.data = np.log1p(l3.data)
    similar = signals.demand_reach.tocsr(copy=True)
    similar.data = 0.5 * np.log1p(similar.data)
    pre = (3.0 * exact + 1.5 * related_only + l3 + similar).tocsr()
    pre.eliminate_zeros()
    return pre
