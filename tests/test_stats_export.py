"""graph_summary against fixtures/tiny counted by hand, and export round trips."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from ketnoi.graph import (
    Dataset,
    build_supply_graph,
    export_graph,
    graph_summary,
    link_graph,
    load_dataset,
)

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


@pytest.fixture(scope="module")
def tiny() -> Dataset:
    return load_dataset(TINY)


# -- graph_summary ---------------------------------------------------------------------------

TINY_SUMMARY = {
    "nodes": {"firm": 8, "category": 7, "park": 2},
    "edges": {
        "demands": 6,
        "supplies": 6,
        "located_in": 5,
        "supplies_to": 5,
        "input_of": 4,
        "subcategory_of": 4,
    },
    "firms": 8,
    # T1, S1, S2, S4, S5 domestic; S3 jv.
    "local_firms": 6,
    "firms_by_role": {"supplier": 5, "buyer": 2, "both": 1},
    "firms_by_sector": {"electronics": 5, "precision engineering": 3},
    "firms_by_park": {"thang-long": 3, "unknown": 3, "quang-minh": 2},
    "firms_by_ownership": {"domestic": 5, "fdi": 2, "jv": 1},
    "firms_by_country": {"VN": 6, "JP": 1, "KR": 1},
    # B1, B2 | T1, S2, S3 | S1 | S4, S5
    "firms_by_tier": {"0": 2, "1": 3, "2": 1, "unlinked": 2},
    # Suppliers T1, S1..S5 over active links: S4, S5 none; T1, S1, S3 one; S2 two (B1, B2).
    "supplier_out_degree": {"0": 2, "1": 3, "2": 1},
    # Buyers B1 (T1, S2), B2 (S3, S2), T1 (S1).
    "buyer_in_degree": {"1": 1, "2": 2},
    "links_by_status": {"active": 5, "ended": 1},
    "links_by_since": {"2017": 1, "2018": 1, "2019": 1, "2020": 1, "2021": 1, "2022": 1},
    "firms_without_links": {"count": 1, "ids": ["S4"]},
    "firms_without_active_links": {"count": 2, "ids": ["S4", "S5"]},
    # Local suppliers T1, S1, S2, S3, S4, S5; S3 and S5 hold no certification.
    "local_suppliers": 6,
    "local_suppliers_certified": 4,
}


def test_graph_summary_on_tiny(tiny: Dataset) -> None:
    summary = graph_summary(tiny)
    share = summary.pop("local_suppliers_certified_share")
    assert share == pytest.approx(4 / 6)
    assert summary == TINY_SUMMARY
    # Count dicts list the most common value first.
    assert list(summary["firms_by_role"]) == ["supplier", "buyer", "both"]


def test_graph_summary_survives_json(tiny: Dataset) -> None:
    summary = graph_summary(tiny)
    assert json.loads(json.dumps(summary, allow_nan=False)) == summary


def test_graph_summary_of_a_link_only_dataset() -> None:
    firms = pd.DataFrame(
        {
            "firm_id": ["s1", "s2", "b1"],
            "name": ["s1", "s2", "b1"],
            "role": ["supplier", "supplier", "buyer"],
            "ownership": ["domestic", "domestic", "fdi"],
        }
    )
    links = pd.DataFrame(
        {"supplier_id": ["s1", "s2"], "buyer_id": ["b1", "b1"], "status": ["active", "ended"]}
    )
    summary = graph_summary(Dataset.from_frames(firms=firms, links=links))
    assert summary["nodes"] == {"firm": 3}
    assert summary["edges"] == {"supplies_to": 1}
    assert summary["firms_by_tier"] == {"0": 1, "1": 1, "unlinked": 1}
    assert summary["firms_by_sector"] == {"unknown": 3}
    assert summary["links_by_since"] == {"unknown": 2}
    assert summary["links_by_status"] == {"active": 1, "ended": 1}
    assert summary["supplier_out_degree"] == {"0": 1, "1": 1}
    assert summary["buyer_in_degree"] == {"1": 1}
    assert summary["firms_without_links"] == {"count": 0, "ids": []}
    assert summary["firms_without_active_links"] == {"count": 1, "ids": ["s2"]}
    assert summary["local_suppliers"] == 2
    assert summary["local_suppliers_certified"] == 0
    assert summary["local_suppliers_certified_share"] == 0.0


def test_certified_share_is_none_without_local_suppliers() -> None:
    firms = pd.DataFrame({"firm_id": ["s", "b"], "name": ["s", "b"], "role": ["supplier", "buyer"]})
    links = pd.DataFrame({"supplier_id": ["s"], "buyer_id": ["b"]})
    summary = graph_summary(Dataset.from_frames(firms=firms, links=links))
    assert summary["local_firms"] == 0
    assert summary["local_suppliers_certified_share"] is None


# -- export_graph ----------------------------------------------------------------------------


def test_graphml_round_trip(tiny: Dataset, tmp_path: Path) -> None:
    G = build_supply_graph(tiny, include_ended=True)
    G.nodes["S3"]["lat"] = float("nan")
    path = export_graph(G, tmp_path / "tiny.graphml")
    assert path == tmp_path / "tiny.graphml"
    H = nx.read_graphml(path, force_multigraph=True)
    assert isinstance(H, nx.MultiDiGraph)
    assert H.number_of_nodes() == 17
    assert H.number_of_edges() == 31
    t1 = H.nodes["T1"]
    assert t1["certifications"] == "ISO 9001;IPC-A-610"
    assert t1["employees"] == 300
    assert t1["lat"] == 21.135
    assert t1["listed"] is True
    assert "lat" not in H.nodes["S3"]  # NaN is dropped, not written as a string
    assert H.nodes["S3"]["certifications"] == ""
    assert H.nodes["park:thang-long"]["park_kind"] == "industrial park"
    assert H.edges["S5", "B2", "supplies_to"]["status"] == "ended"
    assert H.edges["B2", "category:screw", "demands"]["confidential"] is True
    assert H.edges["B2", "category:stamp", "demands"]["required_certifications"] == "IATF 16949"
    # The graph exported is left as it was.
    assert G.nodes["T1"]["certifications"] == ["ISO 9001", "IPC-A-610"]


def test_graphml_keeps_parallel_edges_of_different_kinds(tmp_path: Path) -> None:
    firms = pd.DataFrame({"firm_id": ["t", "b"], "name": ["t", "b"], "role": ["both", "buyer"]})
    links = pd.DataFrame({"supplier_id": ["t"], "buyer_id": ["b"]})
    capabilities = pd.DataFrame({"firm_id": ["t"], "category_id": ["pcb"]})
    demands = pd.DataFrame({"firm_id": ["t"], "category_id": ["pcb"]})
    G = build_supply_graph(
        Dataset.from_frames(firms=firms, links=links, capabilities=capabilities, demands=demands)
    )
    H = nx.read_graphml(export_graph(G, tmp_path / "g.graphml"), force_multigraph=True)
    assert sorted(H["t"]["category:pcb"]) == ["demands", "supplies"]
    # capacity and volume were missing: no attribute rather than a null.
    assert "capacity" not in H.edges["t", "category:pcb", "supplies"]


def test_json_round_trip(tiny: Dataset, tmp_path: Path) -> None:
    G = build_supply_graph(tiny)
    G.nodes["S3"]["lat"] = float("nan")
    path = export_graph(G, tmp_path / "tiny.json", format="json")
    text = path.read_text("utf-8")
    assert "NaN" not in text
    data = json.loads(text)
    assert sorted(data) == ["directed", "edges", "graph", "multigraph", "nodes"]
    H = nx.node_link_graph(data, edges="edges")
    assert isinstance(H, nx.MultiDiGraph)
    assert H.number_of_nodes() == 17
    assert H.number_of_edges() == 30
    assert H.nodes["T1"]["certifications"] == ["ISO 9001", "IPC-A-610"]
    assert H.nodes["S3"]["lat"] is None
    assert H.nodes["T1"]["name"] == "Công ty Cổ phần Điện tử Đông Anh"
    assert H.edges["T1", "B1", "supplies_to"] == {
        "kind": "supplies_to",
        "categories": ["pcba"],
        "since": 2018,
        "status": "active",
    }


def test_json_of_a_link_graph(tiny: Dataset, tmp_path: Path) -> None:
    path = export_graph(link_graph(tiny), tmp_path / "links.json", format="json")
    H = nx.node_link_graph(json.loads(path.read_text("utf-8")), edges="edges")
    assert type(H) is nx.DiGraph
    assert sorted(H.edges) == [("S1", "T1"), ("S2", "B1"), ("S2", "B2"), ("S3", "B2"), ("T1", "B1")]


def test_numpy_and_pandas_values_export(tmp_path: Path) -> None:
    import numpy as np

    G = nx.DiGraph()
    G.add_node("a", n=np.int64(3), x=np.float64("nan"), y=pd.NA, tags=("p", "q"))
    H = nx.read_graphml(export_graph(G, tmp_path / "g.graphml"))
    assert H.nodes["a"] == {"n": 3, "tags": "p;q"}
    J = json.loads(export_graph(G, tmp_path / "g.json", format="json").read_text("utf-8"))
    assert J["nodes"] == [{"id": "a", "n": 3, "x": None, "y": None, "tags": ["p", "q"]}]


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format"):
        export_graph(nx.Graph(), tmp_path / "g.gexf", format="gexf")
