"""Tiers on active links, with answers worked out by hand from fixtures/tiny.

tiny's active links: T1->B1, S1->T1, S2->B1, S3->B2, S2->B2 (S5->B2 has ended).
B1 (JP) and B2 (KR) are the FDI buyers.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from ketnoi.graph import (
    Dataset,
    build_supply_graph,
    fdi_buyer_ids,
    firm_tiers,
    link_graph,
    load_dataset,
    tier_edges,
    tier_graph,
    tiers_upstream,
)

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    return load_dataset(TINY)


@pytest.fixture(scope="module")
def cycle() -> Dataset:
    """A supplies B and B supplies A; C supplies B. A is an FDI firm that also buys."""
    firms = pd.DataFrame(
        {
            "firm_id": ["A", "B", "C"],
            "name": ["A", "B", "C"],
            "role": ["both", "both", "supplier"],
            "ownership": ["fdi", "domestic", "domestic"],
        }
    )
    links = pd.DataFrame({"supplier_id": ["A", "B", "C"], "buyer_id": ["B", "A", "B"]})
    return Dataset.from_frames(firms=firms, links=links)


# -- tiers_upstream --------------------------------------------------------------------------


def test_tiers_upstream_of_b1(tiny: Dataset) -> None:
    tiers = tiers_upstream(tiny, "B1")
    assert tiers == {"T1": 1, "S2": 1, "S1": 2}
    # Ordered by tier, then firm id.
    assert list(tiers.items()) == [("S2", 1), ("T1", 1), ("S1", 2)]


def test_tiers_upstream_of_b2_leaves_out_the_ended_link(tiny: Dataset) -> None:
    assert tiers_upstream(tiny, "B2") == {"S3": 1, "S2": 1}


def test_tiers_upstream_of_a_tier1_and_a_pure_supplier(tiny: Dataset) -> None:
    assert tiers_upstream(tiny, "T1") == {"S1": 1}
    assert tiers_upstream(tiny, "S4") == {}


@pytest.mark.parametrize("build", [build_supply_graph, link_graph])
def test_tiers_upstream_on_graphs_match_the_dataset(tiny: Dataset, build) -> None:
    G = build(tiny)
    assert tiers_upstream(G, "B1") == {"T1": 1, "S2": 1, "S1": 2}
    assert tiers_upstream(G, "B2") == {"S3": 1, "S2": 1}


def test_ended_edges_in_the_graph_are_not_followed(tiny: Dataset) -> None:
    G = build_supply_graph(tiny, include_ended=True)
    assert G.has_edge("S5", "B2")
    assert tiers_upstream(G, "B2") == {"S3": 1, "S2": 1}
    L = link_graph(tiny, active_only=False)
    assert tiers_upstream(L, "B2") == {"S3": 1, "S2": 1}


def test_max_depth(tiny: Dataset) -> None:
    assert tiers_upstream(tiny, "B1", max_depth=1) == {"T1": 1, "S2": 1}
    assert tiers_upstream(tiny, "B1", max_depth=2) == {"T1": 1, "S2": 1, "S1": 2}
    assert tiers_upstream(tiny, "B1", max_depth=0) == {}
    with pytest.raises(ValueError, match="max_depth"):
        tiers_upstream(tiny, "B1", max_depth=-1)


def test_unknown_buyer_raises_node_not_found(tiny: Dataset) -> None:
    with pytest.raises(nx.NodeNotFound):
        tiers_upstream(tiny, "NOPE")
    with pytest.raises(nx.NodeNotFound):
        tiers_upstream(build_supply_graph(tiny), "NOPE")
    # Raised at the call, before any edge is asked for.
    with pytest.raises(nx.NodeNotFound):
        tier_edges(tiny, "NOPE")
    with pytest.raises(nx.NodeNotFound):
        tier_graph(tiny, "NOPE")


def test_cycle_terminates_and_excludes_the_buyer(cycle: Dataset) -> None:
    assert tiers_upstream(cycle, "A") == {"B": 1, "C": 2}
    assert tiers_upstream(cycle, "B") == {"A": 1, "C": 1}
    assert tiers_upstream(cycle, "C") == {}


def test_tiers_on_a_plain_digraph_with_a_longer_cycle() -> None:
    G = nx.DiGraph()
    G.add_edges_from([("x", "b"), ("y", "x"), ("z", "y"), ("x", "z")], kind="supplies_to")
    assert tiers_upstream(G, "b") == {"x": 1, "y": 2, "z": 3}


def test_edges_of_other_kinds_are_not_walked() -> None:
    G = nx.MultiDiGraph()
    G.add_edge("s", "b", key="supplies_to", kind="supplies_to")
    G.add_edge("category:pcb", "b", key="input_of", kind="input_of")
    G.add_edge("t", "s", key="demands", kind="demands")
    assert tiers_upstream(G, "b") == {"s": 1}


# -- firm_tiers ------------------------------------------------------------------------------


def test_firm_tiers_on_tiny(tiny: Dataset) -> None:
    expected = pd.Series(
        [0, 0, 1, 2, 1, 1, pd.NA, pd.NA],
        index=pd.Index(["B1", "B2", "T1", "S1", "S2", "S3", "S4", "S5"], name="firm_id"),
        dtype="Int64",
        name="tier",
    )
    pd.testing.assert_series_equal(firm_tiers(tiny), expected)
    pd.testing.assert_series_equal(firm_tiers(build_supply_graph(tiny)), expected)
    pd.testing.assert_series_equal(firm_tiers(link_graph(tiny)), expected)


def test_fdi_buyer_ids(tiny: Dataset, cycle: Dataset) -> None:
    assert fdi_buyer_ids(tiny) == ["B1", "B2"]
    assert fdi_buyer_ids(build_supply_graph(tiny)) == ["B1", "B2"]
    assert fdi_buyer_ids(cycle) == ["A"]


def test_firm_tiers_with_a_cycle(cycle: Dataset) -> None:
    assert firm_tiers(cycle).to_list() == [0, 1, 2]


def test_fdi_supplier_is_not_a_root() -> None:
    firms = pd.DataFrame(
        {
            "firm_id": ["F", "D"],
            "name": ["F", "D"],
            "role": ["supplier", "buyer"],
            "ownership": ["fdi", "domestic"],
        }
    )
    links = pd.DataFrame({"supplier_id": ["F"], "buyer_id": ["D"]})
    tiers = firm_tiers(Dataset.from_frames(firms=firms, links=links))
    assert tiers.isna().to_list() == [True, True]
    assert str(tiers.dtype) == "Int64"


def test_firm_tiers_without_fdi_buyers_are_all_na() -> None:
    firms = pd.DataFrame({"firm_id": ["s", "b"], "name": ["s", "b"], "role": ["supplier", "buyer"]})
    links = pd.DataFrame({"supplier_id": ["s"], "buyer_id": ["b"]})
    tiers = firm_tiers(Dataset.from_frames(firms=firms, links=links))
    assert tiers.isna().all()
    assert list(tiers.index) == ["s", "b"]


# -- tier_edges and tier_graph ---------------------------------------------------------------


def test_tier_edges_of_b1(tiny: Dataset) -> None:
    assert sorted(tier_edges(tiny, "B1")) == [("S1", "T1", 2), ("S2", "B1", 1), ("T1", "B1", 1)]
    assert sorted(tier_edges(tiny, "B1", max_depth=1)) == [("S2", "B1", 1), ("T1", "B1", 1)]


def test_tier_edges_leave_out_same_tier_and_backward_links(cycle: Dataset) -> None:
    # Upstream of A: B is tier 1, C tier 2. The A->B link goes back to the buyer: left out.
    assert sorted(tier_edges(cycle, "A")) == [("B", "A", 1), ("C", "B", 2)]
    # Upstream of B: A and C are both tier 1; nothing links tier 1 to tier 2.
    assert sorted(tier_edges(cycle, "B")) == [("A", "B", 1), ("C", "B", 1)]
    G = nx.DiGraph()
    G.add_edges_from([("s1", "t1"), ("t1", "b1"), ("s1", "b1")], kind="supplies_to")
    assert sorted(tier_edges(G, "b1")) == [("s1", "b1", 1), ("t1", "b1", 1)]


def test_tier_graph_of_b1(tiny: Dataset) -> None:
    H = tier_graph(tiny, "B1")
    assert dict(H.nodes(data="tier")) == {"B1": 0, "T1": 1, "S2": 1, "S1": 2}
    assert sorted(H.edges) == [("S1", "T1"), ("S2", "B1"), ("T1", "B1")]
    assert H.nodes["S1"]["name_en"] == "Hanoi PCB Co. Ltd."
    assert H.graph["buyer_id"] == "B1"
    layout = nx.multipartite_layout(H, subset_key="tier")
    assert set(layout) == {"B1", "T1", "S2", "S1"}


def test_tier_graph_of_a_buyer_without_suppliers(tiny: Dataset) -> None:
    H = tier_graph(tiny, "S4")
    assert dict(H.nodes(data="tier")) == {"S4": 0}
    assert H.number_of_edges() == 0
