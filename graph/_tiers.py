"""Supply-chain tiers: how many active links separate a supplier from a buyer.

A Tier-1 supplier delivers to the buyer directly, a Tier-2 supplier delivers to a Tier-1, and so
on. Tiers are shortest distances along *active* ``supplies_to`` edges walked against their
direction (from a buyer to its suppliers), found by breadth-first search, so cycles in the link
graph (two firms that supply each other) end the walk instead of looping.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Iterator

import networkx as nx
import pandas as pd

from ketnoi.graph._build import link_graph
from ketnoi.graph._contract import BUYER_ROLES
from ketnoi.graph._dataset import Dataset

__all__ = ["firm_tiers", "fdi_buyer_ids", "tier_edges", "tier_graph", "tiers_upstream"]


def _as_graph(G_or_dataset: nx.Graph | Dataset) -> nx.Graph:
    if isinstance(G_or_dataset, Dataset):
        return link_graph(G_or_dataset, active_only=True)
    return G_or_dataset


def is_active_link(data: dict) -> bool:
    """Whether an edge's data is an active ``supplies_to`` link (the links tiers count)."""
    # Graphs built with include_ended=True carry ended pairs; they never count towards a tier.
    return data.get("kind") == "supplies_to" and data.get("status", "active") == "active"


def _suppliers(G: nx.Graph, firm: Hashable) -> Iterator[Hashable]:
    """Firms with an active ``supplies_to`` edge into ``firm``, in graph order."""
    for supplier, between in G.pred[firm].items():
        # A multigraph maps each neighbour to {key: data}; a simple graph to data directly.
        edges = between.values() if G.is_multigraph() else (between,)
        if any(is_active_link(data) for data in edges):
            yield supplier


def _upstream_bfs(
    G: nx.Graph, sources: Iterable[Hashable], max_depth: int | None
) -> dict[Hashable, int]:
    """Distance of every firm from the nearest source, walking from buyers to suppliers."""
    if max_depth is not None and max_depth < 0:
        raise ValueError(f"max_depth must be >= 0, got {max_depth}")
    depth = dict.fromkeys(sources, 0)
    queue = deque(depth)
    while queue:
        firm = queue.popleft()
        if max_depth is not None and depth[firm] >= max_depth:
            continue
        for supplier in _suppliers(G, firm):
            if supplier not in depth:
                depth[supplier] = depth[firm] + 1
                queue.append(supplier)
    return depth


def _check_node(G: nx.Graph, node: Hashable) -> None:
    if node not in G:
        raise nx.NodeNotFound(f"Buyer {node} is not in the graph.")


def tiers_upstream(
    G_or_dataset: nx.Graph | Dataset, buyer_id: Hashable, max_depth: int | None = None
) -> dict[Hashable, int]:
    """Tier of every firm upstream of one buyer along active links.

    Parameters
    ----------
    G_or_dataset : networkx graph or Dataset
        A graph from :func:`build_supply_graph` or :func:`link_graph` (only active
        ``supplies_to`` edges are followed), or a dataset, whose active links are used.
    buyer_id : node
        The buyer whose supply chain is traced.
    max_depth : int, optional
        Deepest tier to report; None follows the chain to its end.

    Returns
    -------
    dict
        ``{firm_id: tier}`` ordered by tier, then firm id; the buyer itself is left out, even
        where a cycle leads back to it.

    Raises
    ------
    networkx.NodeNotFound
        If ``buyer_id`` is not in the graph.
    ValueError
        If ``max_depth`` is negative.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edges_from([("s1", "t1"), ("t1", "b1"), ("s2", "b1")], kind="supplies_to")
    >>> tiers_upstream(G, "b1")
    {'s2': 1, 't1': 1, 's1': 2}
    """
    G = _as_graph(G_or_dataset)
    _check_node(G, buyer_id)
    depth = _upstream_bfs(G, [buyer_id], max_depth)
    del depth[buyer_id]
    return dict(sorted(depth.items(), key=lambda item: (item[1], str(item[0]))))


def fdi_buyer_ids(G_or_dataset: nx.Graph | Dataset) -> list[Hashable]:
    """Firms with ownership ``fdi`` and role buyer or both: the roots of the tier count."""
    if isinstance(G_or_dataset, Dataset):
        firms = G_or_dataset.firms
        mask = (firms["ownership"] == "fdi") & firms["role"].isin(BUYER_ROLES)
        return list(firms.loc[mask, "firm_id"])
    return [
        n
        for n, data in G_or_dataset.nodes(data=True)
        if data.get("kind") == "firm"
        and data.get("ownership") == "fdi"
        and data.get("role") in BUYER_ROLES
    ]


def firm_tiers(G_or_dataset: nx.Graph | Dataset) -> pd.Series:
    """Each firm's overall tier: its distance to the nearest FDI buyer along active links.

    Parameters
    ----------
    G_or_dataset : networkx graph or Dataset
        A dataset, or a graph whose firm nodes carry ``ownership`` and ``role``.

    Returns
    -------
    pandas.Series
        Nullable ``Int64`` indexed by ``firm_id`` (every firm, in dataset order), named
        ``tier``: 0 for FDI buyers, 1 for their direct suppliers, ... and ``<NA>`` for firms
        with no active chain to any FDI buyer.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> firm_tiers(tiny).to_dict()["S1"]
    2
    """
    G = _as_graph(G_or_dataset)
    depth = _upstream_bfs(G, fdi_buyer_ids(G_or_dataset), None)
    firms = [n for n, kind in G.nodes(data="kind") if kind == "firm"]
    tiers = pd.Series([depth.get(f) for f in firms], index=pd.Index(firms, name="firm_id"))
    return tiers.astype("Int64").rename("tier")


def tier_edges(
    G_or_dataset: nx.Graph | Dataset, buyer_id: Hashable, max_depth: int | None = None
) -> Iterator[tuple[Hashable, Hashable, int]]:
    """Yield ``(supplier, customer, tier)`` for the active links that make up a buyer's tiers.

    Only links that step exactly one tier towards the buyer are yielded (``tier`` is the
    supplier's): the layered graph that draws cleanly tier by tier. A link between two firms of
    the same tier, or back up the chain, is left out.

    Parameters
    ----------
    G_or_dataset, buyer_id, max_depth
        As for :func:`tiers_upstream`.

    Raises
    ------
    networkx.NodeNotFound
        If ``buyer_id`` is not in the graph.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edges_from([("s1", "t1"), ("t1", "b1"), ("s1", "b1")], kind="supplies_to")
    >>> sorted(tier_edges(G, "b1"))
    [('s1', 'b1', 1), ('t1', 'b1', 1)]
    """
    G = _as_graph(G_or_dataset)
    _check_node(G, buyer_id)
    # Checked before the generator starts, so a bad buyer fails at the call, not mid-loop.
    return _layered_edges(G, _upstream_bfs(G, [buyer_id], max_depth))


def _layered_edges(
    G: nx.Graph, depth: dict[Hashable, int]
) -> Iterator[tuple[Hashable, Hashable, int]]:
    for customer, customer_tier in depth.items():
        for supplier in _suppliers(G, customer):
            if depth.get(supplier) == customer_tier + 1:
                yield supplier, customer, customer_tier + 1


def tier_graph(
    G_or_dataset: nx.Graph | Dataset, buyer_id: Hashable, max_depth: int | None = None
) -> nx.DiGraph:
    """The layered supply chain of one buyer, ready for ``nx.multipartite_layout``.

    Parameters
    ----------
    G_or_dataset, buyer_id, max_depth
        As for :func:`tiers_upstream`.

    Returns
    -------
    networkx.DiGraph
        The buyer (``tier`` 0) and its upstream firms, with their attributes from the source
        graph and a ``tier``, joined by the edges of :func:`tier_edges`. Draw it with
        ``nx.multipartite_layout(H, subset_key="tier")``.

    Raises
    ------
    networkx.NodeNotFound
        If ``buyer_id`` is not in the graph.
    """
    G = _as_graph(G_or_dataset)
    edges = tier_edges(G, buyer_id, max_depth)
    H = nx.DiGraph(buyer_id=buyer_id)
    H.add_node(buyer_id, **{**G.nodes[buyer_id], "tier": 0})
    for supplier, customer, tier in edges:
        H.add_node(supplier, **{**G.nodes[supplier], "tier": tier})
        H.add_edge(supplier, customer, kind="supplies_to")
    return H
