"""Baseline rankers: hand-computed values on a tiny network and the planted-links contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from ketnoi import graph
from ketnoi.matcher._baselines import (
    ALS,
    ItemKNN,
    L3Paths,
    PopularCapable,
    RandomCapable,
)
from ketnoi.matcher._features import BatchSignals, pair_features
from ketnoi.matcher._index import build_snapshot, firm_index
from ketnoi.matcher._metrics import recall_at_k
from ketnoi.matcher._peers import EASE, RP3beta


def _firms(suppliers: list[str], buyers: list[str]) -> pd.DataFrame:
    ids = suppliers + buyers
    roles = ["supplier"] * len(suppliers) + ["buyer"] * len(buyers)
    return pd.DataFrame({"firm_id": ids, "name": ids, "role": roles})


@pytest.fixture(scope="module")
def chain() -> graph.Dataset:
    """B1-{S1,S2}, B2-{S2,S3}, B3-{S3,S4}: a path S1-B1-S2-B2-S3-B3-S4.

    As a buyers x suppliers matrix A (rows B1..B3, columns S1..S4)::

        B1: 1 1 0 0
        B2: 0 1 1 0
        B3: 0 0 1 1
    """
    links = pd.DataFrame(
        {
            "supplier_id": ["S1", "S2", "S2", "S3", "S3", "S4"],
            "buyer_id": ["B1", "B1", "B2", "B2", "B3", "B3"],
        }
    )
    return graph.Dataset.from_frames(
        firms=_firms(["S1", "S2", "S3", "S4"], ["B1", "B2", "B3"]), links=links
    )


# Popularity (buyers supplied) S1..S4 = 1, 2, 2, 1; ties break by pop / (max + 1) = pop / 3.
POP = np.array([1, 2, 2, 1]) / 3


def test_l3_path_counts_by_hand(chain):
    l3 = L3Paths().fit(chain)
    # B1: A[B1] Aᵀ = (B1:2, B2:1, B3:0); times A = 2·(1,1,0,0) + 1·(0,1,1,0) = (2, 3, 1, 0).
    # The only path to an unlinked supplier: B1-S2-B2-S3.
    # B2: A[B2] Aᵀ = (1, 2, 1); times A = (1,1,0,0) + 2·(0,1,1,0) + (0,0,1,1) = (1, 3, 3, 1).
    counts = l3.path_counts(np.array([0, 1])).toarray()
    np.testing.assert_array_equal(counts, [[2, 3, 1, 0], [1, 3, 3, 1]])
    scores = l3.score_buyers(["B1", "B2"])
    # Paths plus the popularity tie-break; no path: below zero, still by popularity.
    np.testing.assert_allclose(scores[0], [2 + POP[0], 3 + POP[1], 1 + POP[2], POP[3] - 1])
    np.testing.assert_allclose(scores[1], [1, 3, 3, 1] + POP)
    assert list(l3.supplier_ids_) == ["S1", "S2", "S3", "S4"]


def test_l3_matches_the_matcher_batch_signals(tiny):
    # Two speeds, one meaning: the baseline's counts equal the matcher's l3 signal.
    dataset = graph.load_dataset(tiny)
    l3 = L3Paths().fit(dataset)
    index = firm_index(dataset)
    snap = build_snapshot(index, dataset.links)
    buyers = np.arange(index.n_buyers)
    signals = BatchSignals.compute(index, snap, buyers)
    pb = np.repeat(buyers, index.n_suppliers)
    ps = np.tile(np.arange(index.n_suppliers), index.n_buyers)
    features, _ = pair_features(index, snap, signals, pb, ps)
    counts = l3.path_counts(buyers).toarray().ravel()
    # The matcher leaves out paths through a pair's own link; on unlinked pairs they agree.
    unlinked = snap.links.toarray().ravel() == 0
    np.testing.assert_allclose(np.expm1(features["l3_paths"])[unlinked], counts[unlinked])


def test_itemknn_by_hand(chain):
    # Buyer sets: S1 {B1}, S2 {B1, B2}, S3 {B2, B3}, S4 {B3}. Cosines:
    # S1-S2 = 1/√2, S2-S3 = 1/2, S3-S4 = 1/√2, every other pair 0.
    r2 = 1 / np.sqrt(2)
    knn = ItemKNN().fit(chain)
    scores = knn.score_buyers(["B1", "B2"])
    # B1 has S1, S2: S1 <- cos(S2,S1) = 1/√2; S2 <- cos(S1,S2) = 1/√2;
    # S3 <- cos(S1,S3) + cos(S2,S3) = 0 + 1/2; S4 <- 0: below zero, by popularity.
    np.testing.assert_allclose(scores[0], [r2, r2, 0.5, POP[3] - 1])
    # B2 has S2, S3: S1 <- 1/√2; S2 <- 1/2; S3 <- 1/2; S4 <- cos(S3,S4) = 1/√2.
    np.testing.assert_allclose(scores[1], [r2, 0.5, 0.5, r2])


def test_itemknn_keeps_only_top_neighbours(chain):
    # One neighbour each: S1 keeps S2; S2 keeps S1 (1/√2 beats 1/2); S3 keeps S4; S4 keeps S3.
    knn = ItemKNN(k_neighbours=1).fit(chain)
    r2 = 1 / np.sqrt(2)
    scores = knn.score_buyers(["B1", "B2"])
    # B1 (S1, S2): S1 <- sim(S2,S1); S2 <- sim(S1,S2); nothing reaches S3 or S4 any more.
    np.testing.assert_allclose(scores[0], [r2, r2, POP[2] - 1, POP[3] - 1])
    # B2 (S2, S3): S1 <- sim(S2,S1); S4 <- sim(S3,S4).
    np.testing.assert_allclose(scores[1], [r2, POP[1] - 1, POP[2] - 1, r2])


def test_unfitted_and_unknown_buyer(chain):
    with pytest.raises(NotFittedError):
        L3Paths().score_buyers(["B1"])
    with pytest.raises(KeyError, match="S1"):
        L3Paths().fit(chain).score_buyers(["S1"])


def test_random_is_reproducible_per_buyer(chain):
    r = RandomCapable(seed=4).fit(chain)
    together = r.score_buyers(["B1", "B2", "B3"])
    alone = r.score_buyers(["B2"])
    np.testing.assert_array_equal(together[1], alone[0])  # batching does not change scores
    other = RandomCapable(seed=5).fit(chain).score_buyers(["B2"])
    assert not np.array_equal(alone, other)


# -- planted links ----------------------------------------------------------------------------
BLOCKS, BUYERS_PER, SUPPLIERS_PER = 4, 6, 8


def block_world(seed: int = 0) -> tuple[graph.Dataset, pd.DataFrame]:
    """Four blocks (one category each) of 6 buyers and 8 suppliers.

    Each buyer links to 5 of its block's suppliers and one supplier of another block (noise);
    one more of its block's suppliers is planted: withheld from training, to be found again.
    """
    rng = np.random.default_rng(seed)
    suppliers = [f"s{b}{i}" for b in range(BLOCKS) for i in range(SUPPLIERS_PER)]
    buyers = [f"b{b}{i}" for b in range(BLOCKS) for i in range(BUYERS_PER)]
    links, planted = [], []
    for block in range(BLOCKS):
        for i in range(BUYERS_PER):
            own = rng.permutation(SUPPLIERS_PER)
            links += [(f"s{block}{j}", f"b{block}{i}") for j in own[:5]]
            planted.append((f"b{block}{i}", f"s{block}{own[5]}"))
            other = (block + 1 + rng.integers(BLOCKS - 1)) % BLOCKS
            links.append((f"s{other}{rng.integers(SUPPLIERS_PER)}", f"b{block}{i}"))
    links_frame = pd.DataFrame(links, columns=["supplier_id", "buyer_id"]).drop_duplicates()
    capabilities = pd.DataFrame(
        {"firm_id": suppliers, "category_id": [f"c{s[1]}" for s in suppliers]}
    )
    demands = pd.DataFrame({"firm_id": buyers, "category_id": [f"c{b[1]}" for b in buyers]})
    dataset = graph.Dataset.from_frames(
        firms=_firms(suppliers, buyers),
        links=links_frame,
        capabilities=capabilities,
        demands=demands,
    )
    return dataset, pd.DataFrame(planted, columns=["buyer_id", "supplier_id"])


@pytest.fixture(scope="module")
def planted() -> tuple[graph.Dataset, pd.DataFrame]:
    return block_world()


def planted_recall(ranker, dataset: graph.Dataset, heldout: pd.DataFrame, k: int = 3) -> float:
    """Mean recall@k of the planted links, ranking each buyer's unlinked suppliers."""
    ranker.fit(dataset)
    buyers = list(heldout["buyer_id"])
    scores = ranker.score_buyers(buyers)
    ids = ranker.supplier_ids_
    linked = set(zip(dataset.links["buyer_id"], dataset.links["supplier_id"], strict=True))
    recalls = []
    for row, (buyer, supplier) in enumerate(heldout.itertuples(index=False)):
        unlinked = np.array([(buyer, s) not in linked for s in ids])
        order = np.flatnonzero(unlinked)[np.argsort(-scores[row, unlinked], kind="stable")]
        recalls.append(recall_at_k(list(ids[order]), {supplier}, k))
    return float(np.mean(recalls))


class Reversed:
    """A deliberately bad ranker: another ranker's scores, upside down."""

    name = "reversed"

    def __init__(self, inner) -> None:
        self.inner = inner

    def fit(self, dataset):
        self.inner.fit(dataset)
        self.supplier_ids_ = self.inner.supplier_ids_
        return self

    def score_buyers(self, buyer_ids):
        return -self.inner.score_buyers(buyer_ids)


@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomCapable(seed=1),
        PopularCapable,
        L3Paths,
        ItemKNN,
        # As many factors as planted blocks: on 24 buyers, more factors than that fit the
        # noise links too (8 factors find about 60% of the planted links).
        lambda: ALS(factors=BLOCKS, iterations=15, seed=0),
        # Tuned: inner validation must find the right corner of the grid on its own.
        lambda: ALS(factors=(BLOCKS, 16), regularization=(0.05, 5.0), iterations=15, seed=0),
        EASE,
        RP3beta,
    ],
    ids=["random", "popular", "l3", "itemknn", "als", "als_tuned", "ease", "rp3beta"],
)
def test_planted_links_come_back_near_the_top(planted, make):
    dataset, heldout = planted
    # Each buyer has 2 unlinked suppliers in its block besides the planted one, and 24 or so
    # elsewhere: a ranker that has learnt the blocks puts the planted link in its top 3.
    assert planted_recall(make(), dataset, heldout, k=3) >= 0.8


@pytest.mark.parametrize(
    "make",
    [
        L3Paths,
        ItemKNN,
        PopularCapable,
        lambda: ALS(factors=(BLOCKS, 16), regularization=(0.05, 5.0), iterations=15, seed=0),
        EASE,
        RP3beta,
    ],
    ids=["l3", "itemknn", "popular", "als_tuned", "ease", "rp3beta"],
)
def test_the_planted_check_can_fail(planted, make):
    dataset, heldout = planted
    assert planted_recall(Reversed(make()), dataset, heldout, k=3) < 0.2


def test_capable_suppliers_outrank_the_rest(planted):
    dataset, _ = planted
    for ranker in (RandomCapable(seed=0), PopularCapable()):
        scores = ranker.fit(dataset).score_buyers(["b00", "b21"])
        in_block = np.array([s[1] for s in ranker.supplier_ids_])
        assert (scores[0, in_block == "0"] >= 0).all() and (scores[0, in_block != "0"] < 0).all()
        assert (scores[1, in_block == "2"] >= 0).all() and (scores[1, in_block != "2"] < 0).all()


def test_without_profiles_every_supplier_is_capable(chain):
    scores = RandomCapable(seed=0).fit(chain).score_buyers(["B1", "B2", "B3"])
    assert (scores >= 0).all()


def test_tuned_als_records_its_choice(planted):
    dataset, _ = planted
    als = ALS(factors=(BLOCKS, 16), regularization=(0.05, 5.0), iterations=15, seed=0)
    als.fit(dataset)
    table = als.validation_
    assert len(table) == 4 and table["inner_ndcg@10"].notna().all()
    best = table.loc[table["inner_ndcg@10"].idxmax()]
    assert als.setting_ == {"factors": best["factors"], "regularization": best["regularization"]}
    assert als.buyer_factors_.shape[1] == als.setting_["factors"]
