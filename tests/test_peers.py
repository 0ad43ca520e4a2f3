"""The tuned peers: inner validation that sees only training links and chooses by NDCG@10."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError

from ketnoi import graph
from ketnoi.matcher._peers import EASE, RP3beta, inner_holdout, inner_ndcg


def test_inner_holdout_hides_a_share_and_keeps_one_link_per_buyer():
    rng = np.random.default_rng(0)
    links = sp.csr_matrix((rng.random((50, 40)) < 0.2).astype(float))
    train, rows, hidden = inner_holdout(links, fraction=0.5, seed=3)
    degree = np.diff(links.indptr)
    assert set(rows) == set(np.flatnonzero(degree >= 2))
    kept = np.diff(train.indptr)
    assert (kept[rows] >= 1).all()
    for row, cols in zip(rows, hidden, strict=True):
        assert links[row, cols].toarray().all(), "only real links are hidden"
        assert not train[row, cols].toarray().any(), "hidden links leave the training matrix"
    assert train.nnz + sum(len(h) for h in hidden) == links.nnz
    again = inner_holdout(links, fraction=0.5, seed=3)
    assert (again[0] != train).nnz == 0


def test_inner_holdout_samples_at_most_max_buyers():
    links = sp.csr_matrix(np.ones((30, 5)))
    _, rows, _ = inner_holdout(links, max_buyers=7, seed=0)
    assert len(rows) == 7


def test_inner_ndcg_by_hand():
    # Buyer 0 knows supplier 0; its hidden link is supplier 2. The scorer ranks suppliers
    # 0 (known, excluded), 1, 2, 3: supplier 2 comes second, NDCG = 1 / log2(3).
    train = sp.csr_matrix(np.array([[1, 0, 0, 0]]))

    def scorer(rows):
        return np.tile([4.0, 3.0, 2.0, 1.0], (len(rows), 1))

    value = inner_ndcg(scorer, train, np.array([0]), [np.array([2])], k=10)
    assert value == pytest.approx(1 / np.log2(3))
    # two hidden links at positions 1 and 2 (suppliers 1, 2) make a perfect list
    value = inner_ndcg(scorer, train, np.array([0]), [np.array([1, 2])], k=10)
    assert value == pytest.approx(1.0)


def _blocks(n_blocks: int = 4, per_block: int = 6, seed: int = 0) -> graph.Dataset:
    """Buyers buy from most suppliers of their own block and one random supplier elsewhere."""
    rng = np.random.default_rng(seed)
    links = []
    for block in range(n_blocks):
        for b in range(per_block):
            for s in range(per_block):
                if rng.random() < 0.7:
                    links.append((f"s{block}-{s}", f"b{block}-{b}"))
            other = (block + 1 + rng.integers(n_blocks - 1)) % n_blocks
            links.append((f"s{other}-{rng.integers(per_block)}", f"b{block}-{b}"))
    frame = pd.DataFrame(links, columns=["supplier_id", "buyer_id"]).drop_duplicates()
    ids = sorted(set(frame["supplier_id"])) + sorted(set(frame["buyer_id"]))
    firms = pd.DataFrame(
        {"firm_id": ids, "name": ids, "role": ["supplier" if i[0] == "s" else "buyer" for i in ids]}
    )
    return graph.Dataset.from_frames(firms=firms, links=frame)


@pytest.mark.parametrize("make", [EASE, RP3beta], ids=["ease", "rp3beta"])
def test_a_peer_chooses_its_setting_from_the_grid_and_records_the_table(make):
    dataset = _blocks()
    model = make().fit(dataset)
    table = model.validation_
    assert len(table) == len(model._grid()) > 1
    best = table.loc[table["inner_ndcg@10"].idxmax()]
    assert all(best[name] == value for name, value in model.setting_.items())
    scores = model.score_buyers(["b0-0", "b1-0"])
    assert scores.shape == (2, len(model.supplier_ids_))


@pytest.mark.parametrize("make", [EASE, RP3beta], ids=["ease", "rp3beta"])
def test_a_peer_ranks_its_buyers_block_first(make):
    dataset = _blocks(seed=1)
    model = make().fit(dataset)
    buyers = [f"b{block}-0" for block in range(4)]
    scores = model.score_buyers(buyers)
    ids = np.asarray(model.supplier_ids_)
    for row, buyer in enumerate(buyers):
        block = buyer.split("-")[0][1:]
        top = ids[np.argsort(-scores[row], kind="stable")[:4]]
        assert sum(s.startswith(f"s{block}-") for s in top) >= 3, (buyer, top)


def test_a_single_setting_skips_inner_validation():
    model = EASE(l2=50.0).fit(_blocks())
    assert model.setting_ == {"l2": 50.0}
    assert np.isnan(model.validation_["inner_ndcg@10"]).all()


def test_unfitted_and_unknown_buyer():
    with pytest.raises(NotFittedError):
        EASE().score_buyers(["b0-0"])
    model = RP3beta(alpha=1.0, beta=0.3, k_neighbours=50).fit(_blocks())
    with pytest.raises(KeyError, match="nobody"):
        model.score_buyers(["nobody"])
