"""Integer-indexed views of a dataset for vectorised scoring.

Two parts: a :class:`FirmIndex` of everything that does not depend on the links (firms,
categories, certifications, text, coordinates), built once (:func:`firm_index` reuses it for
datasets that differ only in their links), and a :class:`LinkSnapshot` of the links known at
some cut-off (the whole network for serving; earlier states for leakage-free training), built
as often as needed. Buyers and suppliers live in separate integer spaces: a firm with role
``both`` has a place in each.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from ketnoi import graph
from ketnoi.graph._taxonomy import ancestor_depths
from ketnoi.matcher._collaborative import EaseSignal, fit_ease_signal, rp3beta_similarity
from ketnoi.matcher._terms import vietnamese_names

__all__ = [
    "FirmIndex",
    "LinkSnapshot",
    "build_snapshot",
    "buyer_rows",
    "firm_index",
    "haversine_km",
    "with_ease",
    "with_rp3",
]

_EARTH_KM = 6371.0088


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in km; NaN where a coordinate is missing."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _binary(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    m = sp.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=shape)
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _vocabulary_matrix(items: pd.Series, vocab: dict[str, int]) -> sp.csr_matrix:
    rows, cols = [], []
    for row, values in enumerate(items):
        for value in values:
            if value in vocab:
                rows.append(row)
                cols.append(vocab[value])
    return _binary(
        np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), (len(items), len(vocab))
    )


@dataclass(eq=False)
class FirmIndex:
    """Everything about firms and categories that scoring needs, as arrays.

    Built once per dataset by :meth:`from_dataset`; shared by every snapshot.
    """

    supplier_ids: pd.Index
    buyer_ids: pd.Index
    category_ids: pd.Index
    firms: pd.DataFrame  # indexed by firm_id
    categories: pd.DataFrame  # indexed by category_id
    supplier_firm: np.ndarray  # supplier index -> row in firms
    buyer_firm: np.ndarray
    listed_supplier: np.ndarray
    parent: np.ndarray  # category index -> parent index or -1
    related: sp.csr_matrix  # categories x categories: sibling or parent/child (not identity)
    tree_distance: np.ndarray  # categories x categories, hops through the taxonomy (capped)
    capability: sp.csr_matrix  # suppliers x categories, capacity (NaN capacity stored as -1)
    demand_rows: pd.DataFrame  # one row per (buyer, category) need, with requirement columns
    bom_inputs: sp.csr_matrix  # categories x categories: input -> output
    cert_vocab: dict[str, int]
    process_vocab: dict[str, int]
    supplier_certs: sp.csr_matrix
    supplier_processes: sp.csr_matrix
    supplier_intl_certs: np.ndarray
    supplier_n_certs: np.ndarray
    supplier_text: sp.csr_matrix  # TF-IDF of descriptions, rows L2-normalised
    category_text: sp.csr_matrix  # TF-IDF of category names in the same vocabulary
    supplier_lat: np.ndarray
    supplier_lon: np.ndarray
    buyer_lat: np.ndarray
    buyer_lon: np.ndarray
    supplier_park: np.ndarray
    buyer_park: np.ndarray
    supplier_log_employees: np.ndarray
    supplier_age: np.ndarray
    buyer_country: np.ndarray  # code index or -1
    buyer_sector: np.ndarray
    countries: pd.Index
    sectors: pd.Index
    has_profiles: bool
    park_names: dict[str, str] = field(repr=False)
    #: Sector, process and park names -> Vietnamese (:func:`ketnoi.matcher.vietnamese_names`).
    names_vi: dict[str, str] = field(repr=False)
    demand_certs: sp.csr_matrix = field(repr=False)  # demand rows x certifications required
    demand_processes: sp.csr_matrix = field(repr=False)  # demand rows x processes required
    explicit_demand: sp.csr_matrix = field(repr=False)  # buyers x categories from demands.csv
    bom_demand: sp.csr_matrix = field(repr=False)  # buyers x categories: inputs of what they make
    buyer_positions: dict[str, int] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dataset(cls, dataset: graph.Dataset) -> FirmIndex:
        """Index a validated dataset."""
        firms = dataset.firms.set_index("firm_id", drop=False)
        role = firms["role"]
        supplier_ids = pd.Index(firms.index[role.isin(graph.SUPPLIER_ROLES)], name="supplier_id")
        buyer_ids = pd.Index(firms.index[role.isin(graph.BUYER_ROLES)], name="buyer_id")
        supplier_firm = firms.index.get_indexer(supplier_ids)
        buyer_firm = firms.index.get_indexer(buyer_ids)

        categories = dataset.categories.set_index("category_id", drop=False)
        category_ids = pd.Index(categories.index, name="category_id")
        n_cat = len(category_ids)
        parent = category_ids.get_indexer(categories["parent_id"].replace("", None))
        related = _related_categories(parent)
        tree = _tree_distance(parent)

        caps = dataset.capabilities
        cap_s = supplier_ids.get_indexer(caps["firm_id"])
        cap_c = category_ids.get_indexer(caps["category_id"])
        keep = (cap_s >= 0) & (cap_c >= 0)
        capacity = caps["capacity"].to_numpy(dtype=float, na_value=np.nan)[keep]
        capability = sp.csr_matrix(
            (np.where(np.isnan(capacity), -1.0, capacity), (cap_s[keep], cap_c[keep])),
            shape=(len(supplier_ids), n_cat),
        )

        inputs = dataset.category_inputs
        bom = _binary(
            category_ids.get_indexer(inputs["input_category_id"]),
            category_ids.get_indexer(inputs["output_category_id"]),
            (n_cat, n_cat),
        )
        # A firm that makes Y needs the inputs of Y: this is how Tier-2 demand is found
        # for Tier-1 firms that never filed demands.
        buyer_makes = _binary(
            *_pairs(buyer_ids, category_ids, caps["firm_id"], caps["category_id"]),
            (len(buyer_ids), n_cat),
        )
        bom_demand = (buyer_makes @ bom.T).tocsr()
        bom_demand.data[:] = 1.0

        dem = dataset.demands
        dem_b = buyer_ids.get_indexer(dem["firm_id"])
        dem_c = category_ids.get_indexer(dem["category_id"])
        ok = (dem_b >= 0) & (dem_c >= 0)
        demand_rows = pd.DataFrame(
            {
                "buyer": dem_b[ok],
                "category": dem_c[ok],
                "volume": dem["volume"].to_numpy(dtype=float, na_value=np.nan)[ok],
                "required_certifications": dem["required_certifications"].to_numpy()[ok],
                "required_processes": dem["required_processes"].to_numpy()[ok],
                "confidential": dem["confidential"].to_numpy()[ok],
                "source": "demand",
            }
        )
        explicit = _binary(
            demand_rows["buyer"].to_numpy(),
            demand_rows["category"].to_numpy(),
            (len(buyer_ids), n_cat),
        )
        # Inputs a buyer needs through its bill of materials, where it filed no demand for them.
        implied = (bom_demand - bom_demand.multiply(explicit)).tocoo()
        implied_rows = pd.DataFrame(
            {
                "buyer": implied.row[implied.data > 0],
                "category": implied.col[implied.data > 0],
                "volume": np.nan,
                "required_certifications": [()] * int((implied.data > 0).sum()),
                "required_processes": [()] * int((implied.data > 0).sum()),
                "confidential": False,
                "source": "bill of materials",
            }
        )
        demand_rows = pd.concat([demand_rows, implied_rows], ignore_index=True)

        sup = firms.iloc[supplier_firm]
        buy = firms.iloc[buyer_firm]
        cert_vocab = _vocab(pd.concat([sup["certifications"], dem["required_certifications"]]))
        process_vocab = _vocab(pd.concat([sup["processes"], dem["required_processes"]]))
        intl = np.array(
            [
                sum(c in graph.INTERNATIONAL_CERTIFICATIONS for c in cs)
                for cs in sup["certifications"]
            ],
            dtype=float,
        )

        text_s, text_c = _text_matrices(sup, categories)
        lat, lon = _coordinates(firms, dataset.parks)
        this_year = dt.date.today().year
        founded = sup["founded"].to_numpy(dtype=float, na_value=np.nan)
        employees = sup["employees"].to_numpy(dtype=float, na_value=np.nan)
        countries = pd.Index(sorted(c for c in buy["country_of_origin"].unique() if c))
        sectors = pd.Index(sorted(s for s in buy["sector"].unique() if s))
        return cls(
            supplier_ids=supplier_ids,
            buyer_ids=buyer_ids,
            category_ids=category_ids,
            firms=firms,
            categories=categories,
            supplier_firm=supplier_firm,
            buyer_firm=buyer_firm,
            listed_supplier=sup["listed"].to_numpy(dtype=bool),
            parent=parent,
            related=related,
            tree_distance=tree,
            capability=capability,
            demand_rows=demand_rows,
            bom_inputs=bom,
            cert_vocab=cert_vocab,
            process_vocab=process_vocab,
            supplier_certs=_vocabulary_matrix(sup["certifications"], cert_vocab),
            supplier_processes=_vocabulary_matrix(sup["processes"], process_vocab),
            supplier_intl_certs=intl,
            supplier_n_certs=sup["certifications"].map(len).to_numpy(dtype=float),
            supplier_text=text_s,
            category_text=text_c,
            supplier_lat=lat[supplier_firm],
            supplier_lon=lon[supplier_firm],
            buyer_lat=lat[buyer_firm],
            buyer_lon=lon[buyer_firm],
            supplier_park=sup["park"].to_numpy(dtype=object),
            buyer_park=buy["park"].to_numpy(dtype=object),
            supplier_log_employees=np.log1p(employees),
            supplier_age=np.clip(this_year - founded, 0, None),
            buyer_country=countries.get_indexer(buy["country_of_origin"]),
            buyer_sector=sectors.get_indexer(buy["sector"]),
            countries=countries,
            sectors=sectors,
            has_profiles=dataset.has_profiles,
            park_names=dict(zip(dataset.parks["park_id"], dataset.parks["name"], strict=True)),
            names_vi=vietnamese_names(dataset),
            demand_certs=_vocabulary_matrix(demand_rows["required_certifications"], cert_vocab),
            demand_processes=_vocabulary_matrix(demand_rows["required_processes"], process_vocab),
            explicit_demand=explicit,
            bom_demand=bom_demand,
        )

    @property
    def n_suppliers(self) -> int:
        return len(self.supplier_ids)

    @property
    def n_buyers(self) -> int:
        return len(self.buyer_ids)

    @property
    def n_categories(self) -> int:
        return len(self.category_ids)

    @cached_property
    def supplier_order(self) -> np.ndarray:
        """Each supplier's place in id order: rankings settle equal scores by supplier id."""
        order = np.argsort(self.supplier_ids.to_numpy().astype(str), kind="stable")
        places = np.empty(len(order), dtype=np.int64)
        places[order] = np.arange(len(order))
        return places

    def supplier_index(self, supplier_id: str) -> int:
        """Position of a supplier; KeyError with a plain message where it is not one."""
        pos = self.supplier_ids.get_indexer([supplier_id])[0]
        if pos < 0:
            raise KeyError(f"'{supplier_id}' is not a supplier (role supplier or both) in the data")
        return int(pos)

    def buyer_index(self, buyer_id: str) -> int:
        """Position of a buyer; KeyError with a plain message where it is not one."""
        # A dict lookup: this sits on the path of every served request.
        if not self.buyer_positions and len(self.buyer_ids):
            self.buyer_positions.update((b, i) for i, b in enumerate(self.buyer_ids))
        try:
            return self.buyer_positions[buyer_id]
        except (KeyError, TypeError):
            raise KeyError(
                f"'{buyer_id}' is not a buyer (role buyer or both) in the data"
            ) from None


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


@dataclass(eq=False)
class LinkSnapshot:
    """The links known at a cut-off, with what follows from them.

    ``links`` is buyers x suppliers (1 where any link existed before the cut-off, active or
    ended: both show the pair could work together); ``active`` holds active links only, the
    pairs that are not "new".
    """

    links: sp.csr_matrix
    active: sp.csr_matrix
    bought: sp.csr_matrix  # buyers x categories bought through links
    sold: sp.csr_matrix  # suppliers x categories sold through links
    needs: sp.csr_matrix  # buyers x categories: demanded, implied by BOM, or bought
    offers: sp.csr_matrix  # suppliers x categories: capability or sold
    supplier_degree: np.ndarray
    buyer_degree: np.ndarray
    outcome_good: sp.csr_matrix  # buyers x suppliers: met, negotiating or contracted
    outcome_declined: sp.csr_matrix
    links_by_country: sp.csr_matrix  # countries x suppliers: buyers of that origin supplied
    links_by_sector: sp.csr_matrix
    links_by_supplier: sp.csc_matrix  # the links again, by column: each supplier's buyers
    # EASE solved on ``links`` (see :func:`with_ease`); None where collaborative signals are off.
    ease: EaseSignal | None = None
    # RP3beta supplier-supplier weights on ``links`` (see :func:`with_rp3`); None where off.
    rp3: sp.csr_matrix | None = None

    @property
    def linked(self) -> sp.csr_matrix:
        return self.links


def _pairs(
    rows: pd.Index, cols: pd.Index, row_values: pd.Series, col_values: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    r = rows.get_indexer(row_values)
    c = cols.get_indexer(col_values)
    keep = (r >= 0) & (c >= 0)
    return r[keep], c[keep]


def _vocab(values: pd.Series) -> dict[str, int]:
    vocab: dict[str, int] = {}
    for items in values:
        for item in items:
            vocab.setdefault(item, len(vocab))
    return vocab


def _related_categories(parent: np.ndarray) -> sp.csr_matrix:
    n = len(parent)
    idx = np.arange(n)
    has = parent >= 0
    child_parent = _binary(idx[has], parent[has], (n, n))
    siblings = (child_parent @ child_parent.T).tocsr()
    rel = (siblings + child_parent + child_parent.T).tocsr()
    rel.setdiag(0)
    rel.eliminate_zeros()
    rel.data[:] = 1.0
    return rel


def _tree_distance(parent: np.ndarray, cap: int = 6) -> np.ndarray:
    """Hops between categories through the taxonomy; ``cap`` where unrelated or farther."""
    n = len(parent)
    if n == 0:
        return np.zeros((0, 0), dtype=np.float32)
    if n > 1500:
        # A dense matrix would not fit comfortably; fall back to fit levels only.
        return np.full((1, 1), float(cap), dtype=np.float32)
    ancestors = [ancestor_depths(parent, c) for c in range(n)]
    dist = np.full((n, n), float(cap), dtype=np.float32)
    for a in range(n):
        anc_a = ancestors[a]
        for b in range(n):
            best = cap
            for node, da in anc_a.items():
                db = ancestors[b].get(node)
                if db is not None:
                    best = min(best, da + db)
                    break  # the first common ancestor up a's chain is the lowest one
            dist[a, b] = best
    return dist


def _text_matrices(
    suppliers: pd.DataFrame, categories: pd.DataFrame
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    descriptions = (
        suppliers["description"].fillna("") + " " + suppliers["name_en"].fillna("")
    ).tolist()
    names = (categories["name"].fillna("") + " " + categories["name_vi"].fillna("")).tolist()
    corpus = [d for d in descriptions + names if d.strip()]
    if not corpus:
        return (
            sp.csr_matrix((len(descriptions), 1)),
            sp.csr_matrix((len(names), 1)),
        )
    vectorizer = TfidfVectorizer(
        sublinear_tf=True, min_df=1, ngram_range=(1, 2), stop_words="english"
    )
    try:
        vectorizer.fit(corpus)
    except ValueError:  # only stop words
        return sp.csr_matrix((len(descriptions), 1)), sp.csr_matrix((len(names), 1))
    return vectorizer.transform(descriptions).tocsr(), vectorizer.transform(names).tocsr()


def _coordinates(firms: pd.DataFrame, parks: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Firm coordinates, falling back to the park's where the firm has none."""
    lat = firms["lat"].to_numpy(dtype=float, na_value=np.nan).copy()
    lon = firms["lon"].to_numpy(dtype=float, na_value=np.nan).copy()
    if not parks.empty:
        park_lat = dict(zip(parks["park_id"], parks["lat"], strict=True))
        park_lon = dict(zip(parks["park_id"], parks["lon"], strict=True))
        missing = np.isnan(lat)
        if missing.any():
            lat[missing] = (
                firms["park"].map(park_lat).to_numpy(dtype=float, na_value=np.nan)[missing]
            )
            lon[missing] = (
                firms["park"].map(park_lon).to_numpy(dtype=float, na_value=np.nan)[missing]
            )
    return lat, lon


def build_snapshot(
    index: FirmIndex,
    links: pd.DataFrame,
    outcomes: pd.DataFrame | None = None,
    *,
    before_year: int | None = None,
    drop: np.ndarray | None = None,
) -> LinkSnapshot:
    """Links (and outcomes) known before ``before_year``, minus the rows masked by ``drop``.

    Parameters
    ----------
    index : FirmIndex
    links : DataFrame
        The dataset's links frame.
    outcomes : DataFrame, optional
        The dataset's outcomes frame; only outcomes dated before ``before_year`` count.
    before_year : int, optional
        Keep links with ``since < before_year``; links without a year are kept, since
        nothing says they are later.
    drop : bool array, optional
        Link rows to leave out (a training fold), on top of the year cut.
    """
    keep = np.ones(len(links), dtype=bool)
    if before_year is not None:
        since = links["since"].to_numpy(dtype=float, na_value=np.nan)
        keep &= ~(since >= before_year)
    if drop is not None:
        keep &= ~drop
    kept = links[keep]
    b, s = _pairs(index.buyer_ids, index.supplier_ids, kept["buyer_id"], kept["supplier_id"])
    shape = (index.n_buyers, index.n_suppliers)
    all_links = _binary(b, s, shape)
    act = kept["status"].to_numpy() == "active"
    ab, as_ = _pairs(
        index.buyer_ids, index.supplier_ids, kept["buyer_id"][act], kept["supplier_id"][act]
    )
    active = _binary(ab, as_, shape)

    cat = index.category_ids.get_indexer(kept["category_id"])
    bb = index.buyer_ids.get_indexer(kept["buyer_id"])
    ss = index.supplier_ids.get_indexer(kept["supplier_id"])
    ok = (cat >= 0) & (bb >= 0) & (ss >= 0)
    n_cat = index.n_categories
    bought = _binary(bb[ok], cat[ok], (index.n_buyers, n_cat))
    sold = _binary(ss[ok], cat[ok], (index.n_suppliers, n_cat))
    needs = (index.explicit_demand + index.bom_demand + bought).tocsr()
    needs.data[:] = 1.0
    capable = index.capability.copy()
    capable.data[:] = 1.0
    offers = (capable + sold).tocsr()
    offers.data[:] = 1.0

    good = sp.csr_matrix(shape)
    declined = sp.csr_matrix(shape)
    if outcomes is not None and not outcomes.empty:
        out = outcomes
        if before_year is not None:
            years = pd.to_datetime(out["date"].replace("", None), errors="coerce").dt.year
            out = out[~(years >= before_year).fillna(False).to_numpy()]
        ob, os_ = (
            index.buyer_ids.get_indexer(out["buyer_id"]),
            index.supplier_ids.get_indexer(out["supplier_id"]),
        )
        valid = (ob >= 0) & (os_ >= 0)
        kind = out["outcome"].to_numpy()
        is_good = valid & np.isin(kind, ["met", "negotiating", "contracted"])
        is_declined = valid & (kind == "declined")
        good = _binary(ob[is_good], os_[is_good], shape)
        declined = _binary(ob[is_declined], os_[is_declined], shape)

    by_country = _group_links(all_links, index.buyer_country, len(index.countries))
    by_sector = _group_links(all_links, index.buyer_sector, len(index.sectors))
    return LinkSnapshot(
        links=all_links,
        active=active,
        bought=bought,
        sold=sold,
        needs=needs,
        offers=offers,
        supplier_degree=np.asarray(all_links.sum(axis=0)).ravel(),
        buyer_degree=np.asarray(all_links.sum(axis=1)).ravel(),
        outcome_good=good,
        outcome_declined=declined,
        links_by_country=by_country,
        links_by_sector=by_sector,
        links_by_supplier=all_links.tocsc(),
    )


def with_ease(snap: LinkSnapshot, l2: float | None, max_side: int) -> LinkSnapshot:
    """``snap`` with EASE solved on its own links (``l2`` None: collaborative signals off).

    EASE is solved per snapshot, like every graph signal: a training snapshot lacks the links
    its positives are judged on, so their EASE scores never see their own link.
    """
    if l2 is None or snap.links.nnz == 0:
        return snap
    return dataclasses.replace(snap, ease=fit_ease_signal(snap.links, l2, max_side))


def with_rp3(snap: LinkSnapshot, on: bool) -> LinkSnapshot:
    """``snap`` with RP3beta weights on its own links (alpha 1, beta 0.5, 100 neighbours).

    Over the suppliers EASE covers (all of them, or the most-linked on large networks), so
    the walk's cost is bounded as EASE's is; weights are laid out on every supplier.
    """
    if not on or snap.links.nnz == 0:
        return snap
    n_suppliers = snap.links.shape[1]
    cols = snap.ease.columns if snap.ease is not None else np.arange(n_suppliers)
    walk = rp3beta_similarity(snap.links[:, cols], 1.0, 0.5, 100).tocoo()
    weights = sp.csr_matrix(
        (walk.data, (cols[walk.row], cols[walk.col])), shape=(n_suppliers, n_suppliers)
    )
    return dataclasses.replace(snap, rp3=weights)


def _group_links(links: sp.csr_matrix, group: np.ndarray, n_groups: int) -> sp.csr_matrix:
    """groups x suppliers: how many buyers of each group a supplier supplies."""
    has = group >= 0
    onehot = sp.csr_matrix(
        (np.ones(int(has.sum())), (group[has], np.flatnonzero(has))),
        shape=(max(n_groups, 1), links.shape[0]),
    )
    return (onehot @ links).tocsr()


def buyer_rows(known: pd.Index, buyer_ids: Sequence[str]) -> np.ndarray:
    """Positions of ``buyer_ids`` among a ranker's ``known`` buyers.

    Raises
    ------
    KeyError
        Naming (up to five of) the ids that are not buyers of the fitted dataset.
    """
    rows = known.get_indexer(pd.Index(list(buyer_ids), dtype=object))
    if (rows < 0).any():
        missing = [b for b, r in zip(buyer_ids, rows, strict=True) if r < 0]
        raise KeyError(f"not buyers of the fitted dataset: {missing[:5]}")
    return rows
