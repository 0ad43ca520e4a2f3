"""Two speeds, one meaning: the matcher's sparse graph signals equal graph's per-pair functions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ketnoi import graph
from ketnoi.matcher._features import BatchSignals, pair_features
from ketnoi.matcher._index import FirmIndex, build_snapshot

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hanoi() -> graph.Dataset:
    return graph.load_dataset(ROOT / "fixtures" / "hanoi")


def test_vectorised_signals_equal_the_networkx_definitions(hanoi: graph.Dataset) -> None:
    index = FirmIndex.from_dataset(hanoi)
    snap = build_snapshot(index, hanoi.links, None)
    rng = np.random.default_rng(7)
    buyers = rng.choice(index.n_buyers, size=12, replace=False)
    # For each buyer: some suppliers it does not buy from and some it does (own link excluded).
    pb, ps = [], []
    for b in buyers:
        linked = snap.links.indices[snap.links.indptr[b] : snap.links.indptr[b + 1]]
        others = rng.choice(index.n_suppliers, size=15, replace=False)
        for s in [*others, *linked[:3]]:
            pb.append(b)
            ps.append(s)
    pb_arr, ps_arr = np.array(pb), np.array(ps)
    signals = BatchSignals.compute(index, snap, np.unique(pb_arr))
    features, _ = pair_features(index, snap, signals, pb_arr, ps_arr)

    G = graph.link_graph(hanoi, active_only=False)
    pairs = list(zip(index.buyer_ids[pb_arr], index.supplier_ids[ps_arr], strict=True))
    expected_l3 = [v for _, _, v in graph.l3_paths(G, pairs)]
    expected_buyers = [v for _, _, v in graph.similar_buyers_adamic_adar(G, pairs)]
    expected_suppliers = [v for _, _, v in graph.similar_suppliers_adamic_adar(G, pairs)]

    np.testing.assert_allclose(np.expm1(features["l3_paths"]), expected_l3, atol=1e-9)
    np.testing.assert_allclose(features["similar_buyers_aa"], expected_buyers, atol=1e-9)
    np.testing.assert_allclose(features["similar_suppliers_aa"], expected_suppliers, atol=1e-9)
    assert max(expected_l3) > 0  # the sample exercises real paths


def test_unknown_node_raises_networkx_error(hanoi: graph.Dataset) -> None:
    import networkx as nx

    G = graph.link_graph(hanoi)
    with pytest.raises(nx.NodeNotFound):
        list(graph.l3_paths(G, [("nobody", "hn-s0001")]))
