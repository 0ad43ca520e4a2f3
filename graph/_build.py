"""The supply graph: firms, categories and parks as one typed networkx graph.

Nodes and edges carry their type in a ``kind`` attribute, as networkx's bipartite helpers carry
``bipartite``: the graph is a plain :class:`networkx.MultiDiGraph`, never a subclass, so every
networkx algorithm applies to it unchanged.

Node ids
--------
Firm nodes use the ``firm_id`` as it stands, because firms are what most callers look up.
Category and park nodes are namespaced (``category:<category_id>``, ``park:<park_id>``) so a
category or park that shares an id with a firm cannot merge into it; :func:`category_node` and
:func:`park_node` spell the ids.

Why a multigraph
----------------
A firm may both make and buy the same category (a ``supplies`` and a ``demands`` edge between the
same two nodes), so parallel edges of different kinds must coexist. Each edge's key is its kind,
which keeps at most one edge per (u, v, kind) and lets callers write ``G.edges[u, v, "demands"]``.
Links are folded into one ``supplies_to`` edge per (supplier, buyer) pair; the categories the
supplier delivers are listed in its ``categories`` attribute.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from typing import Any

import networkx as nx
import pandas as pd

from ketnoi.graph._dataset import Dataset
from ketnoi.graph._values import json_column

__all__ = [
    "EDGE_KINDS",
    "NODE_KINDS",
    "build_supply_graph",
    "category_node",
    "edges_of_kind",
    "link_graph",
    "nodes_of_kind",
    "park_node",
]

CATEGORY_PREFIX = "category:"
PARK_PREFIX = "park:"

#: Node kinds of the supply graph.
NODE_KINDS: tuple[str, ...] = ("firm", "category", "park")
#: Edge kinds of the supply graph, each with its direction.
EDGE_KINDS: tuple[str, ...] = (
    "supplies",  # firm -> category it can make (capabilities)
    "demands",  # firm -> category it buys (demands)
    "supplies_to",  # supplier firm -> buyer firm (links)
    "input_of",  # input category -> output category (category_inputs)
    "subcategory_of",  # child category -> parent category (categories.parent_id)
    "located_in",  # firm -> park (firms.park, where parks.csv exists)
)


def category_node(category_id: str) -> str:
    """Node id of a category in the supply graph.

    Examples
    --------
    >>> category_node("pcb")
    'category:pcb'
    """
    return f"{CATEGORY_PREFIX}{category_id}"


def park_node(park_id: str) -> str:
    """Node id of a park in the supply graph.

    Examples
    --------
    >>> park_node("thang-long")
    'park:thang-long'
    """
    return f"{PARK_PREFIX}{park_id}"


def _records(frame: pd.DataFrame, drop: tuple[str, ...] = (), owner: str = "") -> list[dict]:
    """Rows as attribute dicts; a column named ``kind`` becomes ``<owner>_kind``.

    The rename exists because ``kind`` is the node and edge type everywhere in the graph, and
    parks.csv has its own ``kind`` column (industrial park, cluster, ...).
    """
    columns = [c for c in frame.columns if c not in drop]
    names = [f"{owner}_kind" if c == "kind" else str(c) for c in columns]
    values = [json_column(frame[c]) for c in columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def _add_firms(G: nx.Graph, dataset: Dataset) -> None:
    ids = dataset.firms["firm_id"].tolist()
    records = _records(dataset.firms, owner="firm")
    G.add_nodes_from(
        (fid, {**attrs, "kind": "firm"}) for fid, attrs in zip(ids, records, strict=True)
    )


def _add_categories(G: nx.MultiDiGraph, dataset: Dataset) -> None:
    categories = dataset.categories
    ids = categories["category_id"].tolist()
    records = _records(categories, owner="category")
    G.add_nodes_from(
        (category_node(cid), {**attrs, "kind": "category"})
        for cid, attrs in zip(ids, records, strict=True)
    )
    parents = zip(ids, categories["parent_id"], strict=True)
    _add_edges(
        G,
        "subcategory_of",
        ((category_node(c), category_node(p), {}) for c, p in parents if p),
    )
    inputs = dataset.category_inputs
    pairs = zip(inputs["input_category_id"], inputs["output_category_id"], strict=True)
    _add_edges(G, "input_of", ((category_node(i), category_node(o), {}) for i, o in pairs))


def _add_parks(G: nx.MultiDiGraph, dataset: Dataset) -> None:
    # Without parks.csv the park column is a free-text name, not a key, so it stays an attribute.
    if "parks" not in dataset.present:
        return
    ids = dataset.parks["park_id"].tolist()
    records = _records(dataset.parks, owner="park")
    G.add_nodes_from(
        (park_node(pid), {**attrs, "kind": "park"}) for pid, attrs in zip(ids, records, strict=True)
    )
    located = zip(dataset.firms["firm_id"], dataset.firms["park"], strict=True)
    _add_edges(G, "located_in", ((f, park_node(p), {}) for f, p in located if p))


def _add_profiles(G: nx.MultiDiGraph, dataset: Dataset) -> None:
    for frame, kind in ((dataset.capabilities, "supplies"), (dataset.demands, "demands")):
        attrs = _records(frame, drop=("firm_id", "category_id"), owner=kind)
        rows = zip(frame["firm_id"], frame["category_id"], attrs, strict=True)
        _add_edges(G, kind, ((f, category_node(c), data) for f, c, data in rows))


def _link_edges(links: pd.DataFrame) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """One ``supplies_to`` edge per (supplier, buyer) pair, folding that pair's link rows.

    A pair is active where any of its links is active; its categories and first year come from
    the links that give it that status, so an ended category never shows on an active edge.
    """
    # A plain dict pass rather than a groupby: per-group pandas overhead dominates on the
    # many small groups that links make.
    pairs: dict[tuple[str, str], dict[str, list]] = {}
    rows = zip(
        links["supplier_id"],
        links["buyer_id"],
        links["category_id"],
        json_column(links["since"]),
        links["status"],
        strict=True,
    )
    for supplier, buyer, category, since, status in rows:
        pair = pairs.setdefault((supplier, buyer), {"active": [], "ended": []})
        pair[status].append((category, since))
    for (supplier, buyer), pair in pairs.items():
        status = "active" if pair["active"] else "ended"
        chosen = pair[status]
        years = [y for _, y in chosen if y is not None]
        data = {
            "categories": [c for c in dict.fromkeys(c for c, _ in chosen) if c],
            "since": min(years) if years else None,
            "status": status,
        }
        yield supplier, buyer, data


def _add_links(G: nx.Graph, dataset: Dataset, active_only: bool) -> None:
    links = dataset.active_links if active_only else dataset.links
    _add_edges(G, "supplies_to", _link_edges(links))


def _add_edges(
    G: nx.Graph, kind: str, edges: Iterable[tuple[Hashable, Hashable, dict[str, Any]]]
) -> None:
    """Add edges of one kind, keyed by the kind in a multigraph."""
    edges = list(edges)
    for u, v, _ in edges:
        for node in (u, v):
            if node not in G:
                # Validation guarantees the endpoints; this keeps hand-made frames from
                # creating untyped nodes that every kind filter would then miss.
                raise ValueError(f"{kind} edge {u!r} -> {v!r}: node {node!r} is not in the graph")
    if G.is_multigraph():
        G.add_edges_from((u, v, kind, {**data, "kind": kind}) for u, v, data in edges)
    else:
        G.add_edges_from((u, v, {**data, "kind": kind}) for u, v, data in edges)


def _check_ids(dataset: Dataset) -> None:
    firm_ids = set(dataset.firms["firm_id"])
    namespaced = {category_node(c) for c in dataset.categories["category_id"]}
    if "parks" in dataset.present:
        namespaced |= {park_node(p) for p in dataset.parks["park_id"]}
    clash = sorted(firm_ids & namespaced)
    if clash:
        raise ValueError(f"firm ids clash with category or park node ids: {', '.join(clash)}")


def build_supply_graph(dataset: Dataset, *, include_ended: bool = False) -> nx.MultiDiGraph:
    """Build the typed supply graph of a dataset.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset. Only firms and links are needed; absent files add nothing.
    include_ended : bool, default False
        Keep supplier-buyer pairs whose links have all ended (``status="ended"`` on the edge).

    Returns
    -------
    networkx.MultiDiGraph
        Nodes have ``kind`` ``firm`` (id = ``firm_id``, every firm column as an attribute,
        list columns as lists, missing numbers None), ``category`` (id ``category:<id>``) or
        ``park`` (id ``park:<id>``; the parks.csv ``kind`` column is stored as ``park_kind``).
        Edges are keyed by their ``kind``, one of :data:`EDGE_KINDS`:

        - ``supplies`` firm -> category: ``capacity``;
        - ``demands`` firm -> category: ``volume``, ``required_certifications``,
          ``required_processes``, ``confidential``;
        - ``supplies_to`` supplier -> buyer: ``categories`` (list), ``since`` (earliest year),
          ``status``;
        - ``input_of`` input category -> output category;
        - ``subcategory_of`` child category -> parent category;
        - ``located_in`` firm -> park, only where parks.csv was given (otherwise ``park`` is
          free text and stays a firm attribute).

    Raises
    ------
    ValueError
        If a firm id equals a namespaced category or park node id.

    Examples
    --------
    >>> import pandas as pd
    >>> from ketnoi.graph import Dataset
    >>> firms = pd.DataFrame({"firm_id": ["s1", "b1"], "name": ["A", "B"],
    ...                       "role": ["supplier", "buyer"]})
    >>> links = pd.DataFrame({"supplier_id": ["s1"], "buyer_id": ["b1"]})
    >>> G = build_supply_graph(Dataset.from_frames(firms=firms, links=links))
    >>> G.edges["s1", "b1", "supplies_to"]["status"]
    'active'
    """
    _check_ids(dataset)
    G = nx.MultiDiGraph(source=dataset.source)
    _add_firms(G, dataset)
    _add_categories(G, dataset)
    _add_parks(G, dataset)
    _add_profiles(G, dataset)
    _add_links(G, dataset, active_only=not include_ended)
    return G


def link_graph(dataset: Dataset, active_only: bool = True) -> nx.DiGraph:
    """The firm-to-firm graph: every firm, and one ``supplies_to`` edge per supplier-buyer pair.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset.
    active_only : bool, default True
        Leave out pairs whose links have all ended.

    Returns
    -------
    networkx.DiGraph
        Firm nodes as in :func:`build_supply_graph`; edges supplier -> buyer with ``kind``,
        ``categories``, ``since`` and ``status``.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> sorted(link_graph(tiny).predecessors("B2"))
    ['S2', 'S3']
    """
    G = nx.DiGraph(source=dataset.source)
    _add_firms(G, dataset)
    _add_links(G, dataset, active_only=active_only)
    return G


def nodes_of_kind(G: nx.Graph, kind: str) -> list[Hashable]:
    """Nodes whose ``kind`` attribute is ``kind``, in graph order.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_node("b1", kind="firm"); G.add_node("category:pcb", kind="category")
    >>> nodes_of_kind(G, "firm")
    ['b1']
    """
    return [n for n, k in G.nodes(data="kind") if k == kind]


def edges_of_kind(G: nx.Graph, kind: str) -> Iterator[tuple[Hashable, Hashable, dict]]:
    """Yield ``(u, v, data)`` for every edge whose ``kind`` attribute is ``kind``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> _ = G.add_edge("s1", "b1", key="supplies_to", kind="supplies_to")
    >>> [(u, v) for u, v, _ in edges_of_kind(G, "supplies_to")]
    [('s1', 'b1')]
    """
    for u, v, data in G.edges(data=True):
        if data.get("kind") == kind:
            yield u, v, data
