"""Link prediction between suppliers and buyers, pair by pair (networkx style).

A supplier and a buyer share no neighbours in the supplier-buyer graph, so the usual
common-neighbour indices do not apply directly. These functions score a (buyer, supplier) pair
through length-3 paths ``buyer - supplier' - buyer' - supplier``:

- :func:`l3_paths` counts them;
- :func:`similar_buyers_adamic_adar` sums the Adamic-Adar index between the buyer and each
  buyer the supplier already supplies (buyer-buyer projection);
- :func:`similar_suppliers_adamic_adar` sums the Adamic-Adar index between the supplier and
  each supplier the buyer already buys from (supplier-supplier projection).

They take the directed link graph of :func:`graph.link_graph` (edges supplier -> buyer) and an
iterable of ``(buyer, supplier)`` pairs, and yield ``(buyer, supplier, value)`` as networkx's
``link_prediction`` module does. A firm of role ``both`` is a buyer on some links and a supplier
on others; paths must not turn through it from one role to the other, so the functions work on
:func:`split_bipartite`, where each firm has a supplier node and a buyer node (pass the split
graph itself to avoid rebuilding it on every call). They serve analysis
and small graphs; :mod:`matcher` computes the same values for many pairs at once with sparse
matrices (a test holds the two against each other).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import networkx as nx

__all__ = [
    "l3_paths",
    "similar_buyers_adamic_adar",
    "similar_suppliers_adamic_adar",
    "split_bipartite",
]

Pair = tuple[str, str]
Node = tuple[str, str]


def split_bipartite(G: nx.DiGraph) -> nx.Graph:
    """The undirected supplier-buyer graph with one node per firm and role.

    Nodes are ``("supplier", firm_id)`` and ``("buyer", firm_id)``; an edge joins a supplier
    node to a buyer node for each link of ``G`` (supplier -> buyer).

    Examples
    --------
    >>> split = split_bipartite(nx.DiGraph([("t1", "b1"), ("s1", "t1")]))
    >>> sorted(split.edges())
    [(('supplier', 's1'), ('buyer', 't1')), (('supplier', 't1'), ('buyer', 'b1'))]
    """
    split = nx.Graph(bipartite_split=True)
    for firm, data in G.nodes(data=True):
        role = data.get("role")
        if role in {"supplier", "both"}:
            split.add_node(("supplier", firm))
        if role in {"buyer", "both"}:
            split.add_node(("buyer", firm))
    split.add_edges_from((("supplier", s), ("buyer", b)) for s, b in G.edges())
    return split


def _apply(
    G: nx.Graph, ebunch: Iterable[Pair], func: Callable[[nx.Graph, Node, Node], float]
) -> Iterator[tuple[str, str, float]]:
    split = G if G.graph.get("bipartite_split") else split_bipartite(G)
    for buyer, supplier in ebunch:
        b, s = ("buyer", buyer), ("supplier", supplier)
        for node, firm in ((b, buyer), (s, supplier)):
            if node not in split:
                raise nx.NodeNotFound(f"Node {firm} is not in G as a {node[0]}.")
        yield buyer, supplier, func(split, b, s)


def l3_paths(G: nx.Graph, ebunch: Iterable[Pair]) -> Iterator[tuple[str, str, float]]:
    """Count length-3 paths ``buyer - s' - b' - supplier`` for each pair.

    Parameters
    ----------
    G : networkx DiGraph
        The supplier-buyer link graph (edges supplier -> buyer, firms with a ``role``), or
        its :func:`split_bipartite`.
    ebunch : iterable of (buyer, supplier)

    Yields
    ------
    (buyer, supplier, count)

    Examples
    --------
    >>> G = nx.DiGraph([("s1", "b1"), ("s1", "b2"), ("s2", "b2")])
    >>> list(l3_paths(G, [("b1", "s2")]))
    [('b1', 's2', 1.0)]
    """

    def count(U: nx.Graph, buyer: Node, supplier: Node) -> float:
        supplier_buyers = set(U[supplier])
        return float(
            sum(
                1
                for s2 in U[buyer]
                for b2 in U[s2]
                if b2 in supplier_buyers and not (s2 == supplier or b2 == buyer)
            )
        )

    return _apply(G, ebunch, count)


def similar_buyers_adamic_adar(
    G: nx.Graph, ebunch: Iterable[Pair]
) -> Iterator[tuple[str, str, float]]:
    """Sum of Adamic-Adar(buyer, b') over the buyers b' the supplier already supplies.

    Adamic-Adar is networkx's :func:`networkx.adamic_adar_index` on the bipartite graph:
    common suppliers weighted by 1/log(their number of buyers).

    Examples
    --------
    >>> G = nx.DiGraph([("s1", "b1"), ("s1", "b2"), ("s2", "b2")])
    >>> round(next(similar_buyers_adamic_adar(G, [("b1", "s2")]))[2], 4)
    1.4427
    """

    def total(U: nx.Graph, buyer: Node, supplier: Node) -> float:
        others = [(buyer, b2) for b2 in U[supplier] if b2 != buyer]
        scores = nx.adamic_adar_index(_without(U, buyer, supplier), others)
        return float(sum(p for _, _, p in scores))

    return _apply(G, ebunch, total)


def similar_suppliers_adamic_adar(
    G: nx.Graph, ebunch: Iterable[Pair]
) -> Iterator[tuple[str, str, float]]:
    """Sum of Adamic-Adar(supplier, s') over the suppliers s' the buyer already buys from.

    Examples
    --------
    >>> G = nx.DiGraph([("s1", "b1"), ("s1", "b2"), ("s2", "b2")])
    >>> round(next(similar_suppliers_adamic_adar(G, [("b1", "s2")]))[2], 4)
    1.4427
    """

    def total(U: nx.Graph, buyer: Node, supplier: Node) -> float:
        others = [(supplier, s2) for s2 in U[buyer] if s2 != supplier]
        scores = nx.adamic_adar_index(_without(U, buyer, supplier), others)
        return float(sum(p for _, _, p in scores))

    return _apply(G, ebunch, total)


def _without(U: nx.Graph, buyer: Node, supplier: Node) -> nx.Graph:
    """The graph without the pair's own link, so a linked pair is scored as if it were new."""
    if not U.has_edge(buyer, supplier):
        return U
    return nx.restricted_view(U, [], [(buyer, supplier)])
