"""The typed supply graph, checked against fixtures/tiny worked out by hand."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from ketnoi import graph
from ketnoi.graph import (
    Dataset,
    build_supply_graph,
    category_node,
    edges_of_kind,
    link_graph,
    load_dataset,
    nodes_of_kind,
    park_node,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "fixtures" / "tiny"


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    return load_dataset(TINY)


@pytest.fixture(scope="module")
def G(tiny: Dataset) -> nx.MultiDiGraph:
    return build_supply_graph(tiny)


def _firms(ids: list[str], roles: list[str], **columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"firm_id": ids, "name": ids, "role": roles, **columns})


def _edge_kinds(G: nx.Graph) -> dict[str, int]:
    return dict(Counter(kind for *_, kind in G.edges(data="kind")))


# -- fixtures/tiny ---------------------------------------------------------------------------


def test_tiny_is_a_multidigraph_with_typed_nodes(G: nx.MultiDiGraph) -> None:
    assert isinstance(G, nx.MultiDiGraph)
    assert dict(Counter(kind for _, kind in G.nodes(data="kind"))) == {
        "firm": 8,
        "category": 7,
        "park": 2,
    }
    assert G.number_of_nodes() == 17


def test_tiny_edge_counts_by_kind(G: nx.MultiDiGraph) -> None:
    # 6 capability rows, 6 demand rows, 5 active links, 4 BOM rows, 4 categories with a
    # parent (pcb, pcba, stamp, screw), 5 firms with a park (B1, B2, T1, S1, S2).
    assert _edge_kinds(G) == {
        "supplies": 6,
        "demands": 6,
        "supplies_to": 5,
        "input_of": 4,
        "subcategory_of": 4,
        "located_in": 5,
    }
    assert G.number_of_edges() == 30


def test_firm_node_carries_every_column_lists_as_lists(G: nx.MultiDiGraph) -> None:
    t1 = G.nodes["T1"]
    assert t1["kind"] == "firm"
    assert t1["role"] == "both"
    assert t1["ownership"] == "domestic"
    # "iso 9001:2015" in the CSV is normalised on loading.
    assert t1["certifications"] == ["ISO 9001", "IPC-A-610"]
    assert t1["processes"] == ["SMT assembly", "testing"]
    assert t1["languages"] == ["vi", "en"]
    assert t1["employees"] == 300
    assert type(t1["employees"]) is int
    assert t1["founded"] == 2008
    assert t1["lat"] == 21.135
    assert t1["listed"] is True
    assert t1["park"] == "thang-long"
    assert set(t1) == {*graph.CONTRACT["firms"].column_names, "kind"}


def test_category_and_park_nodes_are_namespaced(G: nx.MultiDiGraph) -> None:
    assert category_node("pcb") == "category:pcb"
    assert park_node("thang-long") == "park:thang-long"
    assert G.nodes["category:pcb"] == {
        "kind": "category",
        "category_id": "pcb",
        "name": "Printed circuit boards",
        "name_vi": "Bảng mạch in",
        "parent_id": "elec",
        "hs_code": "8534",
    }
    park = G.nodes["park:quang-minh"]
    assert park["kind"] == "park"
    assert park["park_kind"] == "industrial park"
    assert park["name"] == "Khu công nghiệp Quang Minh"
    assert "pcb" not in G
    assert "thang-long" not in G


def test_profile_edges(G: nx.MultiDiGraph) -> None:
    assert G.edges["S3", "category:screw", "supplies"] == {
        "kind": "supplies",
        "capacity": 1000000.0,
    }
    assert G.edges["B2", "category:screw", "demands"] == {
        "kind": "demands",
        "volume": 200000.0,
        "required_certifications": [],
        "required_processes": [],
        "confidential": True,
    }
    assert G.edges["B2", "category:stamp", "demands"]["required_certifications"] == ["IATF 16949"]
    assert G.edges["B1", "category:stamp", "demands"]["required_processes"] == ["stamping"]
    assert sorted(G.successors("T1")) == ["B1", "category:pcb", "category:pcba", "park:thang-long"]


def test_taxonomy_and_location_edges(G: nx.MultiDiGraph) -> None:
    assert sorted((u, v) for u, v, _ in edges_of_kind(G, "subcategory_of")) == [
        ("category:pcb", "category:elec"),
        ("category:pcba", "category:elec"),
        ("category:screw", "category:metal"),
        ("category:stamp", "category:metal"),
    ]
    assert sorted((u, v) for u, v, _ in edges_of_kind(G, "input_of")) == [
        ("category:pcb", "category:pcba"),
        ("category:pcba", "category:printer"),
        ("category:screw", "category:printer"),
        ("category:stamp", "category:printer"),
    ]
    assert sorted((u, v) for u, v, _ in edges_of_kind(G, "located_in")) == [
        ("B1", "park:thang-long"),
        ("B2", "park:quang-minh"),
        ("S1", "park:thang-long"),
        ("S2", "park:quang-minh"),
        ("T1", "park:thang-long"),
    ]


def test_active_links_only_by_default(G: nx.MultiDiGraph) -> None:
    assert sorted((u, v) for u, v, _ in edges_of_kind(G, "supplies_to")) == [
        ("S1", "T1"),
        ("S2", "B1"),
        ("S2", "B2"),
        ("S3", "B2"),
        ("T1", "B1"),
    ]
    assert G.edges["T1", "B1", "supplies_to"] == {
        "kind": "supplies_to",
        "categories": ["pcba"],
        "since": 2018,
        "status": "active",
    }
    assert not G.has_edge("S5", "B2")


def test_include_ended_keeps_ended_pairs(tiny: Dataset) -> None:
    G = build_supply_graph(tiny, include_ended=True)
    assert _edge_kinds(G)["supplies_to"] == 6
    assert G.edges["S5", "B2", "supplies_to"] == {
        "kind": "supplies_to",
        "categories": ["stamp"],
        "since": 2017,
        "status": "ended",
    }


def test_nodes_of_kind_in_graph_order(G: nx.MultiDiGraph) -> None:
    assert nodes_of_kind(G, "firm") == ["B1", "B2", "T1", "S1", "S2", "S3", "S4", "S5"]
    assert nodes_of_kind(G, "park") == ["park:thang-long", "park:quang-minh"]
    assert nodes_of_kind(G, "nothing") == []


def test_link_graph(tiny: Dataset) -> None:
    L = link_graph(tiny)
    assert type(L) is nx.DiGraph
    assert list(L) == ["B1", "B2", "T1", "S1", "S2", "S3", "S4", "S5"]
    assert sorted(L.edges) == [("S1", "T1"), ("S2", "B1"), ("S2", "B2"), ("S3", "B2"), ("T1", "B1")]
    assert L.edges["S2", "B2"] == {
        "kind": "supplies_to",
        "categories": ["stamp"],
        "since": 2022,
        "status": "active",
    }
    everything = link_graph(tiny, active_only=False)
    assert everything.number_of_edges() == 6
    assert everything.edges["S5", "B2"]["status"] == "ended"


# -- hand-made datasets ----------------------------------------------------------------------


def test_one_edge_per_pair_folds_categories_and_status() -> None:
    firms = _firms(["s", "b"], ["supplier", "buyer"])
    links = pd.DataFrame(
        {
            "supplier_id": ["s", "s", "s"],
            "buyer_id": ["b", "b", "b"],
            "category_id": ["bolt", "nut", "washer"],
            "since": ["2019", "2015", "2010"],
            "status": ["active", "active", "ended"],
        }
    )
    dataset = Dataset.from_frames(firms=firms, links=links)
    G = build_supply_graph(dataset)
    # The ended washer link neither lists its category nor sets the first year.
    assert G.edges["s", "b", "supplies_to"] == {
        "kind": "supplies_to",
        "categories": ["bolt", "nut"],
        "since": 2015,
        "status": "active",
    }
    assert G.number_of_edges("s", "b") == 1


def test_link_only_dataset_builds() -> None:
    firms = _firms(["s1", "s2", "b1"], ["supplier", "supplier", "buyer"])
    links = pd.DataFrame({"supplier_id": ["s1", "s2"], "buyer_id": ["b1", "b1"]})
    dataset = Dataset.from_frames(firms=firms, links=links)
    G = build_supply_graph(dataset)
    assert list(G) == ["s1", "s2", "b1"]
    assert _edge_kinds(G) == {"supplies_to": 2}
    assert G.edges["s1", "b1", "supplies_to"] == {
        "kind": "supplies_to",
        "categories": [],
        "since": None,
        "status": "active",
    }
    assert G.nodes["s1"]["certifications"] == []
    assert G.nodes["s1"]["lat"] is None
    assert G.nodes["s1"]["employees"] is None


def test_link_only_dataset_with_categories_gets_flat_category_nodes() -> None:
    firms = _firms(["s1", "b1"], ["supplier", "buyer"])
    links = pd.DataFrame({"supplier_id": ["s1"], "buyer_id": ["b1"], "category_id": ["pcb"]})
    G = build_supply_graph(Dataset.from_frames(firms=firms, links=links))
    assert nodes_of_kind(G, "category") == ["category:pcb"]
    assert _edge_kinds(G) == {"supplies_to": 1}


def test_free_text_park_makes_no_park_nodes() -> None:
    firms = _firms(["s1", "b1"], ["supplier", "buyer"], park=["KCN Thăng Long", ""])
    links = pd.DataFrame({"supplier_id": ["s1"], "buyer_id": ["b1"]})
    dataset = Dataset.from_frames(firms=firms, links=links)
    assert "parks" not in dataset.present
    G = build_supply_graph(dataset)
    assert nodes_of_kind(G, "park") == []
    assert list(edges_of_kind(G, "located_in")) == []
    assert G.nodes["s1"]["park"] == "KCN Thăng Long"


def test_parks_kind_column_does_not_overwrite_node_kind() -> None:
    firms = _firms(["s1", "b1"], ["supplier", "buyer"], park=["p1", "p1"])
    parks = pd.DataFrame({"park_id": ["p1"], "name": ["Park"], "kind": ["cluster"]})
    links = pd.DataFrame({"supplier_id": ["s1"], "buyer_id": ["b1"]})
    G = build_supply_graph(Dataset.from_frames(firms=firms, parks=parks, links=links))
    assert G.nodes["park:p1"]["kind"] == "park"
    assert G.nodes["park:p1"]["park_kind"] == "cluster"
    assert sorted(u for u, _, _ in edges_of_kind(G, "located_in")) == ["b1", "s1"]


def test_firm_can_supply_and_demand_the_same_category() -> None:
    firms = _firms(["t", "b"], ["both", "buyer"])
    links = pd.DataFrame({"supplier_id": ["t"], "buyer_id": ["b"]})
    capabilities = pd.DataFrame({"firm_id": ["t"], "category_id": ["pcb"], "capacity": ["10"]})
    demands = pd.DataFrame({"firm_id": ["t"], "category_id": ["pcb"], "volume": ["4"]})
    dataset = Dataset.from_frames(
        firms=firms, links=links, capabilities=capabilities, demands=demands
    )
    G = build_supply_graph(dataset)
    assert sorted(G["t"]["category:pcb"]) == ["demands", "supplies"]
    assert G.edges["t", "category:pcb", "supplies"]["capacity"] == 10.0
    assert G.edges["t", "category:pcb", "demands"]["volume"] == 4.0


def test_firm_id_clashing_with_a_category_node_is_refused() -> None:
    firms = _firms(["category:pcb", "b1"], ["supplier", "buyer"])
    links = pd.DataFrame(
        {"supplier_id": ["category:pcb"], "buyer_id": ["b1"], "category_id": ["pcb"]}
    )
    dataset = Dataset.from_frames(firms=firms, links=links)
    with pytest.raises(ValueError, match="category:pcb"):
        build_supply_graph(dataset)


# -- package surface -------------------------------------------------------------------------


def test_public_names_are_exported() -> None:
    for name in (
        "build_supply_graph",
        "link_graph",
        "nodes_of_kind",
        "edges_of_kind",
        "category_node",
        "park_node",
        "tiers_upstream",
        "firm_tiers",
        "tier_edges",
        "tier_graph",
        "graph_summary",
        "export_graph",
    ):
        assert name in graph.__all__
    assert all(hasattr(graph, name) for name in graph.__all__)
    assert graph.__all__ == sorted(graph.__all__)


def test_graph_imports_neither_matcher_nor_api() -> None:
    code = (
        "import sys, graph; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('matcher', 'api')]; "
        "sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False)
    assert result.returncode == 0
