"""Questions analysts ask of the link network: who is where, who is central, who is alone.

Each function returns a tidy pandas frame or series that reads on its own and feeds one of the
pictures in :mod:`graph._plot`. Functions that look at links take the graph first (a dataset,
or a graph from :func:`build_supply_graph` or :func:`link_graph`) and, like the tier functions,
follow *active* ``supplies_to`` edges only: an ended link is history, not structure.
"""

from __future__ import annotations

from collections.abc import Hashable

import networkx as nx
import pandas as pd

from ketnoi.graph._build import link_graph
from ketnoi.graph._contract import BUYER_ROLES, SUPPLIER_ROLES
from ketnoi.graph._dataset import Dataset
from ketnoi.graph._tiers import is_active_link

__all__ = [
    "HUB_MEASURES",
    "communities",
    "community_summary",
    "degree_table",
    "firm_counts",
    "hubs",
    "unlinked_firms",
]

#: Label for an empty text value (no park, no sector ...) in counts, as in :func:`graph_summary`.
UNKNOWN = "unknown"

#: Centrality measures :func:`hubs` knows, with what a high value means in a supply network.
HUB_MEASURES: dict[str, str] = {
    "degree": "trading partners (distinct buyers and suppliers on active links)",
    "betweenness": "brokers: shortest paths between other firms that pass through the firm",
    "pagerank": "firms that whole supply chains feed, weighting each supplier by its own feed",
}

#: Firm attributes carried into the per-firm frames, where the graph has them (``tier`` on a
#: :func:`tier_graph`).
_FIRM_COLUMNS = ("name", "role", "ownership", "country_of_origin", "sector", "park", "tier")


def _firm_graph(G_or_dataset: nx.Graph | Dataset) -> nx.DiGraph:
    """Firms and their active supplier -> buyer edges, whatever graph or dataset was given."""
    if isinstance(G_or_dataset, Dataset):
        return link_graph(G_or_dataset, active_only=True)
    G = G_or_dataset
    H = nx.DiGraph()
    # A supply graph also holds categories and parks; only firms take part in the link network.
    H.add_nodes_from((n, d) for n, d in G.nodes(data=True) if d.get("kind") == "firm")
    edges = G.edges(keys=True, data=True) if G.is_multigraph() else G.edges(data=True)
    for u, v, *_, data in edges:
        if is_active_link(data) and u in H and v in H:
            H.add_edge(u, v, **data)
    return H


def _firm_frame(G: nx.DiGraph, ids: list[Hashable]) -> pd.DataFrame:
    records = [{c: G.nodes[n].get(c) for c in _FIRM_COLUMNS} for n in ids]
    frame = pd.DataFrame(records, index=pd.Index(ids, name="firm_id"), columns=list(_FIRM_COLUMNS))
    return frame.dropna(axis=1, how="all")


def firm_labels(firms: pd.DataFrame, column: str | pd.Series) -> pd.Series:
    """A firm column, or a series keyed by firm id, as text labels aligned with ``firms``."""
    if isinstance(column, pd.Series):
        # As object, so that firms missing from an integer series do not turn 1 into "1.0".
        values = column.astype(object).reindex(firms["firm_id"]).to_numpy()
    else:
        if column not in firms.columns:
            raise KeyError(f"firms have no column {column!r}")
        values = firms[column].to_numpy()
    return pd.Series(
        [UNKNOWN if v is None or v is pd.NA or v != v or v == "" else str(v) for v in values],
        index=firms.index,
    )


def firm_counts(
    firms: Dataset | pd.DataFrame, by: str | pd.Series, split: str | pd.Series | None = None
) -> pd.DataFrame:
    """Count firms by one attribute, optionally split by a second.

    Parameters
    ----------
    firms : Dataset or DataFrame
        A dataset (all its firms) or a frame of firm rows with a ``firm_id`` column, such as
        :func:`unlinked_firms` returns.
    by : str or Series
        A firm column (``sector``, ``park``, ``ownership``, ``country_of_origin``, ``role`` ...)
        or a series indexed by ``firm_id`` (for example :func:`communities`); empty values
        count as ``"unknown"``.
    split : str or Series, optional
        A second attribute, the same way: one column per value.

    Returns
    -------
    DataFrame
        Index: the values of ``by``, most firms first (ties by value). Columns: the values of
        ``split``, largest first, or one column ``firms``. Cells are counts (0 where none).

    Examples
    --------
    >>> import pandas as pd
    >>> firms = pd.DataFrame({"firm_id": ["a", "b", "c"], "sector": ["x", "y", "x"],
    ...                       "role": ["supplier", "buyer", "buyer"]})
    >>> firm_counts(firms, "sector", split="role").loc["x"].to_dict()
    {'buyer': 1, 'supplier': 1}
    """
    frame = firms.firms if isinstance(firms, Dataset) else firms
    rows = firm_labels(frame, by)
    name = by if isinstance(by, str) else (by.name or "group")
    if split is None:
        table = rows.value_counts().to_frame("firms")
    else:
        table = pd.crosstab(rows, firm_labels(frame, split))
        order = sorted(table.columns, key=lambda c: (-int(table[c].sum()), str(c)))
        table = table[order]
    totals = table.sum(axis=1)
    order = sorted(table.index, key=lambda r: (-int(totals[r]), str(r)))
    table = table.loc[order].astype("int64")
    table.index.name = str(name)
    table.columns.name = None if split is None else str(split if isinstance(split, str) else "")
    return table


def degree_table(G_or_dataset: nx.Graph | Dataset) -> pd.DataFrame:
    """Each firm's trading partners on active links.

    Parameters
    ----------
    G_or_dataset : networkx graph or Dataset
        A dataset, or a graph whose firm nodes have ``kind="firm"`` (other nodes are ignored).

    Returns
    -------
    DataFrame
        One row per firm (index ``firm_id``, graph order) with the firm's ``name``, ``role``,
        ``ownership``, ``country_of_origin``, ``sector``, ``park`` and ``tier`` where the
        graph has them (``tier`` on a :func:`tier_graph`), then
        ``n_buyers`` (distinct firms it supplies), ``n_suppliers`` (distinct firms that supply
        it) and ``partners`` (distinct firms either way: a pair that trade both ways counts
        once).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_nodes_from(["s", "t", "b"], kind="firm")
    >>> G.add_edges_from([("s", "t"), ("t", "b"), ("s", "b")], kind="supplies_to")
    >>> degree_table(G)[["n_buyers", "n_suppliers", "partners"]].loc["t"].tolist()
    [1, 1, 2]
    """
    G = _firm_graph(G_or_dataset)
    ids = list(G.nodes)
    frame = _firm_frame(G, ids)
    frame["n_buyers"] = [G.out_degree(n) for n in ids]
    frame["n_suppliers"] = [G.in_degree(n) for n in ids]
    frame["partners"] = [len(set(G.succ[n]) | set(G.pred[n])) for n in ids]
    return frame.astype({"n_buyers": "int64", "n_suppliers": "int64", "partners": "int64"})


def unlinked_firms(dataset: Dataset, *, active_only: bool = True) -> pd.DataFrame:
    """Firms with no link at all: the programme's first outreach list.

    Parameters
    ----------
    dataset : Dataset
    active_only : bool, default True
        Count only active links, so a firm whose every link has ended is unlinked too.

    Returns
    -------
    DataFrame
        The rows of ``dataset.firms`` (all columns, dataset order) for those firms; the same
        firms as ``graph_summary(dataset)["firms_without_active_links"]`` (or
        ``["firms_without_links"]`` with ``active_only=False``).

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> unlinked_firms(tiny)["firm_id"].tolist()
    ['S4', 'S5']
    """
    links = dataset.active_links if active_only else dataset.links
    linked = set(links["supplier_id"]) | set(links["buyer_id"])
    firms = dataset.firms
    return firms[~firms["firm_id"].isin(linked)].reset_index(drop=True)


def hubs(
    G_or_dataset: nx.Graph | Dataset,
    measure: str = "betweenness",
    top: int | None = 10,
    *,
    sample: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """The most central firms of the link network.

    Parameters
    ----------
    G_or_dataset : networkx graph or Dataset
        As for :func:`degree_table`.
    measure : {"betweenness", "degree", "pagerank"}
        See :data:`HUB_MEASURES`. Betweenness is taken on the undirected link network
        (normalised; a broker links suppliers to buyers whichever way goods flow); PageRank
        follows the supply direction, so it gathers at the firms chains deliver to.
    top : int or None, default 10
        How many firms to return; None returns every firm.
    sample : int, optional
        Estimate betweenness from this many source firms (faster on large networks); None
        computes it exactly.
    seed : int
        Seed for the betweenness sample.

    Returns
    -------
    DataFrame
        The columns of :func:`degree_table` and ``centrality``, highest first (ties by firm id).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_nodes_from(["s1", "s2", "t", "b1", "b2"], kind="firm")
    >>> G.add_edges_from([("s1", "t"), ("s2", "t"), ("t", "b1"), ("t", "b2")],
    ...                  kind="supplies_to")
    >>> hubs(G, "betweenness", top=1).index.tolist()
    ['t']
    """
    if measure not in HUB_MEASURES:
        raise ValueError(f"measure must be one of {', '.join(HUB_MEASURES)}, got {measure!r}")
    G = _firm_graph(G_or_dataset)
    table = degree_table(G)
    if measure == "degree":
        values = table["partners"].astype(float).to_dict()
    elif measure == "betweenness":
        k = None if sample is None else min(sample, G.number_of_nodes())
        values = nx.betweenness_centrality(G.to_undirected(), k=k, seed=seed)
    else:
        values = nx.pagerank(G)
    table["centrality"] = pd.Series(values, dtype=float).reindex(table.index).to_numpy()
    table = table.assign(_id=table.index.astype(str)).sort_values(
        ["centrality", "_id"], ascending=[False, True], kind="stable"
    )
    table = table.drop(columns="_id")
    return table if top is None else table.head(top)


def communities(
    G_or_dataset: nx.Graph | Dataset, *, seed: int = 0, resolution: float = 1.0
) -> pd.Series:
    """Groups of firms that trade more among themselves than with the rest (Louvain).

    Parameters
    ----------
    G_or_dataset : networkx graph or Dataset
        As for :func:`degree_table`; the links are taken as undirected.
    seed : int
        Louvain visits nodes in random order; a fixed seed gives the same groups every run.
    resolution : float
        Above 1 favours smaller communities, below 1 larger ones.

    Returns
    -------
    Series
        Community number per firm (index ``firm_id``, named ``community``), for firms with at
        least one active link only: a firm with no partner belongs to no community. Number 0
        is the largest community, then by size (ties by the smallest firm id inside).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_nodes_from(["a1", "a2", "a3", "b1", "b2", "b3", "alone"], kind="firm")
    >>> G.add_edges_from([("a1", "a2"), ("a2", "a3"), ("a3", "a1"),
    ...                   ("b1", "b2"), ("b2", "b3"), ("b3", "b1"), ("a1", "b1")],
    ...                  kind="supplies_to")
    >>> communities(G).to_dict()
    {'a1': 0, 'a2': 0, 'a3': 0, 'b1': 1, 'b2': 1, 'b3': 1}
    """
    U = _firm_graph(G_or_dataset).to_undirected()
    U.remove_nodes_from([n for n in list(U) if U.degree(n) == 0])
    groups = nx.community.louvain_communities(U, seed=seed, resolution=resolution)
    ordered = sorted(
        (sorted(g, key=str) for g in groups), key=lambda g: (-len(g), str(g[0]) if g else "")
    )
    labels = {firm: number for number, group in enumerate(ordered) for firm in group}
    ids = [n for n in U.nodes if n in labels]
    ids.sort(key=lambda n: (labels[n], str(n)))
    return pd.Series(
        [labels[n] for n in ids], index=pd.Index(ids, name="firm_id"), name="community"
    ).astype("int64")


def _most_common(labels: pd.Series) -> tuple[str, int]:
    """The most common known label and its count (ties by label); ``unknown`` if none."""
    counts = labels[labels != UNKNOWN].value_counts()
    if counts.empty:
        return UNKNOWN, int((labels == UNKNOWN).sum())
    best = sorted(counts.index, key=lambda v: (-int(counts[v]), str(v)))[0]
    return str(best), int(counts[best])


def community_summary(dataset: Dataset, community: pd.Series) -> pd.DataFrame:
    """What each community is made of: size, buyers, FDI firms, and its main sector and park.

    Parameters
    ----------
    dataset : Dataset
    community : Series
        Community per firm, as :func:`communities` returns.

    Returns
    -------
    DataFrame
        One row per community (index ``community``, in order): ``firms``, ``buyers`` (role
        buyer or both), ``suppliers`` (role supplier or both), ``fdi`` (ownership fdi),
        ``top_sector`` and ``top_park`` (the most common known value, ties by name;
        ``"unknown"`` only where no member has one), each with its share of the community's
        firms (``top_sector_share``, ``top_park_share``: firms outside any park count in the
        denominator, so a low park share means a community spread across the city).

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> int(community_summary(tiny, communities(tiny))["firms"].sum())
    6
    """
    firms = dataset.firms.set_index("firm_id").reindex(community.index)
    rows = []
    for number, members in firms.groupby(community.to_numpy(), sort=True):
        n = len(members)
        top_sector, sector_n = _most_common(firm_labels(members.reset_index(), "sector"))
        top_park, park_n = _most_common(firm_labels(members.reset_index(), "park"))
        rows.append(
            {
                "community": int(number),
                "firms": n,
                "buyers": int(members["role"].isin(BUYER_ROLES).sum()),
                "suppliers": int(members["role"].isin(SUPPLIER_ROLES).sum()),
                "fdi": int((members["ownership"] == "fdi").sum()),
                "top_sector": top_sector,
                "top_sector_share": sector_n / n,
                "top_park": top_park,
                "top_park_share": park_n / n,
            }
        )
    columns = [
        "community",
        "firms",
        "buyers",
        "suppliers",
        "fdi",
        "top_sector",
        "top_sector_share",
        "top_park",
        "top_park_share",
    ]
    return pd.DataFrame(rows, columns=columns).set_index("community")
