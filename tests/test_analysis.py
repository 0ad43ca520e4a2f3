"""The analyst helpers of graph/_analysis.py, on tiny graphs with answers worked out by hand."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from ketnoi import graph

HANOI = Path(__file__).resolve().parents[1] / "fixtures" / "hanoi"


@pytest.fixture(scope="module")
def hanoi() -> graph.Dataset:
    return graph.load_dataset(HANOI)


def _firms(G: nx.DiGraph, *names: str, **attrs: object) -> None:
    G.add_nodes_from(names, kind="firm", **attrs)


def _supply(G: nx.DiGraph, *pairs: tuple[str, str], status: str = "active") -> None:
    G.add_edges_from(pairs, kind="supplies_to", status=status)


# -- firm_counts ------------------------------------------------------------------------------
def test_firm_counts_orders_by_size_and_names_empty_values_unknown() -> None:
    firms = pd.DataFrame(
        {
            "firm_id": ["a", "b", "c", "d", "e"],
            "park": ["p2", "", "p1", "p2", None],
            "role": ["supplier", "buyer", "supplier", "supplier", "both"],
        }
    )
    counts = graph.firm_counts(firms, "park")
    # p2 twice, unknown twice ("" and None), p1 once; equal counts by name.
    assert counts.index.tolist() == ["p2", "unknown", "p1"]
    assert counts["firms"].tolist() == [2, 2, 1]
    assert counts.index.name == "park"


def test_firm_counts_split_gives_one_column_per_value_largest_first() -> None:
    firms = pd.DataFrame(
        {
            "firm_id": ["a", "b", "c", "d"],
            "sector": ["x", "x", "y", "x"],
            "role": ["buyer", "supplier", "supplier", "supplier"],
        }
    )
    counts = graph.firm_counts(firms, "sector", split="role")
    assert counts.columns.tolist() == ["supplier", "buyer"]
    assert counts.to_dict("index") == {
        "x": {"supplier": 2, "buyer": 1},
        "y": {"supplier": 1, "buyer": 0},
    }


def test_firm_counts_takes_a_series_keyed_by_firm_id() -> None:
    firms = pd.DataFrame({"firm_id": ["a", "b", "c"]})
    groups = pd.Series({"c": 1, "a": 1}, name="community")  # b has no group
    counts = graph.firm_counts(firms, groups)
    assert counts["firms"].to_dict() == {"1": 2, "unknown": 1}
    assert counts.index.name == "community"


def test_firm_counts_of_a_dataset_add_up_to_its_firms(hanoi: graph.Dataset) -> None:
    counts = graph.firm_counts(hanoi, "ownership", split="role")
    assert int(counts.to_numpy().sum()) == len(hanoi.firms) == 1418
    summary = graph.graph_summary(hanoi)
    assert counts.sum(axis=1).to_dict() == summary["firms_by_ownership"]


def test_firm_counts_rejects_an_unknown_column() -> None:
    with pytest.raises(KeyError, match="colour"):
        graph.firm_counts(pd.DataFrame({"firm_id": ["a"]}), "colour")


# -- degree_table -----------------------------------------------------------------------------
def test_degree_table_counts_distinct_partners_and_ignores_ended_links() -> None:
    G = nx.DiGraph()
    _firms(G, "a", "b", "c", "d")
    # a and b trade both ways (two edges, one partner each); c supplies b; d's link ended.
    _supply(G, ("a", "b"), ("b", "a"), ("c", "b"))
    _supply(G, ("d", "a"), status="ended")
    table = graph.degree_table(G)
    assert table.index.tolist() == ["a", "b", "c", "d"]
    assert table.loc["a", ["n_buyers", "n_suppliers", "partners"]].tolist() == [1, 1, 1]
    assert table.loc["b", ["n_buyers", "n_suppliers", "partners"]].tolist() == [1, 2, 2]
    assert table.loc["c", ["n_buyers", "n_suppliers", "partners"]].tolist() == [1, 0, 1]
    assert table.loc["d", ["n_buyers", "n_suppliers", "partners"]].tolist() == [0, 0, 0]


def test_degree_table_skips_category_and_park_nodes_of_the_supply_graph(
    hanoi: graph.Dataset,
) -> None:
    from_graph = graph.degree_table(graph.build_supply_graph(hanoi))
    from_dataset = graph.degree_table(hanoi)
    assert len(from_graph) == len(hanoi.firms)
    pd.testing.assert_frame_equal(from_graph, from_dataset)


def test_degree_table_agrees_with_graph_summary(hanoi: graph.Dataset) -> None:
    table = graph.degree_table(hanoi)
    summary = graph.graph_summary(hanoi)
    suppliers = table.loc[table["role"].isin(graph.SUPPLIER_ROLES), "n_buyers"]
    buyers = table.loc[table["role"].isin(graph.BUYER_ROLES), "n_suppliers"]
    as_text = lambda values: {str(d): n for d, n in sorted(Counter(values).items())}  # noqa: E731
    assert as_text(suppliers) == summary["supplier_out_degree"]
    assert as_text(buyers) == summary["buyer_in_degree"]


# -- unlinked_firms ---------------------------------------------------------------------------
def test_unlinked_firms_on_tiny(tiny: Path) -> None:
    dataset = graph.load_dataset(tiny)
    # S4 has no link; S5's only link (to B2, 2017) has ended.
    assert graph.unlinked_firms(dataset)["firm_id"].tolist() == ["S4", "S5"]
    assert graph.unlinked_firms(dataset, active_only=False)["firm_id"].tolist() == ["S4"]
    assert graph.unlinked_firms(dataset).columns.tolist() == dataset.firms.columns.tolist()


def test_unlinked_firms_agree_with_graph_summary(hanoi: graph.Dataset) -> None:
    summary = graph.graph_summary(hanoi)
    active = graph.unlinked_firms(hanoi)
    ever = graph.unlinked_firms(hanoi, active_only=False)
    assert sorted(active["firm_id"]) == summary["firms_without_active_links"]["ids"]
    assert sorted(ever["firm_id"]) == summary["firms_without_links"]["ids"]
    assert len(active) == 351


# -- hubs -------------------------------------------------------------------------------------
def _bow_tie() -> nx.DiGraph:
    # s1, s2 -> t -> b1, b2, and an extra s1 -> b1: t brokers every other pair but one.
    G = nx.DiGraph()
    _firms(G, "s1", "s2", "t", "b1", "b2")
    _supply(G, ("s1", "t"), ("s2", "t"), ("t", "b1"), ("t", "b2"), ("s1", "b1"))
    return G


def test_hubs_betweenness_by_hand() -> None:
    table = graph.hubs(_bow_tie(), "betweenness", top=None)
    # Undirected, the links are s1-t, s2-t, t-b1, t-b2, s1-b1. Of the 6 pairs of the other
    # four firms, every shortest path of s1-s2, s1-b2, s2-b1, s2-b2 and b1-b2 passes
    # through t, and s1-b1 is direct: 5 of 6 (normalised by the 6 pairs) -> 5/6. No shortest
    # path passes through s1, s2, b1 or b2 (t-b1 and s1-t are direct links).
    assert table.index[0] == "t"
    assert table.loc["t", "centrality"] == pytest.approx(5 / 6)
    assert table.loc[["s1", "s2", "b1", "b2"], "centrality"].tolist() == pytest.approx([0.0] * 4)


def test_hubs_degree_and_ties_by_firm_id() -> None:
    table = graph.hubs(_bow_tie(), "degree", top=3)
    # t has 4 partners; s1 and b1 have 2 each (tie, by id: b1 first).
    assert table.index.tolist() == ["t", "b1", "s1"]
    assert table["centrality"].tolist() == [4.0, 2.0, 2.0]


def test_hubs_pagerank_gathers_where_supply_flows() -> None:
    table = graph.hubs(_bow_tie(), "pagerank", top=None)
    assert table["centrality"].sum() == pytest.approx(1.0)
    # b1 receives from t and s1: the most fed firm; s1, s2 receive nothing.
    assert table.index[0] == "b1"
    assert set(table.index[-2:]) == {"s1", "s2"}


def test_hubs_sampled_betweenness_is_reproducible(hanoi: graph.Dataset) -> None:
    one = graph.hubs(hanoi, sample=100, seed=3)
    two = graph.hubs(hanoi, sample=100, seed=3)
    pd.testing.assert_frame_equal(one, two)
    assert len(one) == 10 and one["centrality"].is_monotonic_decreasing


def test_hubs_rejects_an_unknown_measure() -> None:
    with pytest.raises(ValueError, match="measure"):
        graph.hubs(_bow_tie(), "closeness")


# -- communities ------------------------------------------------------------------------------
def _two_triangles() -> nx.DiGraph:
    G = nx.DiGraph()
    _firms(G, "x3", "x1", "x2", "y1", "y2", "y3", "y4", "alone", "gone")
    _supply(G, ("x1", "x2"), ("x2", "x3"), ("x3", "x1"))
    # The y group is larger (4 firms, a triangle and a tail), so it is number 0.
    _supply(G, ("y1", "y2"), ("y2", "y3"), ("y3", "y1"), ("y4", "y1"))
    _supply(G, ("x1", "y1"))
    _supply(G, ("gone", "x1"), status="ended")
    return G


def test_communities_split_two_triangles_largest_first() -> None:
    groups = graph.communities(_two_triangles())
    assert groups.to_dict() == {
        "y1": 0,
        "y2": 0,
        "y3": 0,
        "y4": 0,
        "x1": 1,
        "x2": 1,
        "x3": 1,
    }
    assert groups.name == "community" and groups.index.name == "firm_id"


def test_communities_leave_out_firms_without_active_links() -> None:
    groups = graph.communities(_two_triangles())
    assert "alone" not in groups.index and "gone" not in groups.index


def test_communities_are_stable_for_a_seed(hanoi: graph.Dataset) -> None:
    one = graph.communities(hanoi, seed=0)
    two = graph.communities(hanoi, seed=0)
    pd.testing.assert_series_equal(one, two)
    sizes = one.value_counts().sort_index()
    assert sizes.is_monotonic_decreasing
    assert len(one) == len(hanoi.firms) - len(graph.unlinked_firms(hanoi))


def test_community_summary_by_hand() -> None:
    firms = pd.DataFrame(
        {
            "firm_id": ["a", "b", "c", "d", "e"],
            "name": list("ABCDE"),
            "role": ["buyer", "supplier", "supplier", "both", "supplier"],
            "ownership": ["fdi", "domestic", "domestic", "fdi", "jv"],
            "sector": ["el", "el", "metal", "metal", "metal"],
            "park": ["p1", "", "", "p2", ""],
        }
    )
    links = pd.DataFrame({"supplier_id": ["b", "c", "e"], "buyer_id": ["a", "a", "d"]})
    dataset = graph.Dataset.from_frames(firms=firms, links=links)
    groups = pd.Series({"a": 0, "b": 0, "c": 0, "d": 1, "e": 1}, name="community")
    table = graph.community_summary(dataset, groups)
    assert table.loc[0].to_dict() == {
        "firms": 3,
        "buyers": 1,
        "suppliers": 2,
        "fdi": 1,
        "top_sector": "el",
        "top_sector_share": pytest.approx(2 / 3),
        # Only a is in a park: p1 is the top park, though most members are in none.
        "top_park": "p1",
        "top_park_share": pytest.approx(1 / 3),
    }
    assert table.loc[1, ["buyers", "suppliers", "fdi", "top_park"]].tolist() == [1, 2, 1, "p2"]
