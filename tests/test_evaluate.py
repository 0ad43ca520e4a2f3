"""Holdout splits and the evaluation loop."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from ketnoi import graph
from ketnoi.matcher._baselines import L3Paths, PopularCapable
from ketnoi.matcher._evaluate import (
    METRICS,
    EvaluationResult,
    default_methods,
    evaluate,
    split_cold,
    split_random,
    split_temporal,
)
from ketnoi.matcher._judge import best_rank, top_k
from ketnoi.matcher._metrics import reciprocal_rank


def _firms(suppliers: list[str], buyers: list[str]) -> pd.DataFrame:
    ids = suppliers + buyers
    roles = ["supplier"] * len(suppliers) + ["buyer"] * len(buyers)
    return pd.DataFrame({"firm_id": ids, "name": ids, "role": roles})


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["buyer_id"], frame["supplier_id"], strict=True))


# -- temporal ---------------------------------------------------------------------------------
@pytest.fixture
def dated() -> graph.Dataset:
    links = pd.DataFrame(
        [
            ("S1", "B1", "c1", 2015),
            ("S2", "B1", "c1", 2016),
            ("S3", "B1", "c1", 2017),
            ("S4", "B1", "c1", 2018),  # hidden: new pair
            ("S5", "B1", "c1", None),  # undated: stays
            ("S1", "B1", "c2", 2019),  # hidden row, but B1-S1 is still linked (2015): not new
            ("S2", "B2", "c1", 2019),  # hidden: new pair
            ("S3", "B2", "c1", None),
        ],
        columns=["supplier_id", "buyer_id", "category_id", "since"],
    )
    outcomes = pd.DataFrame(
        [
            ("S4", "B1", "met", "2018-03-01"),  # in a hidden year: leaks the answer
            ("S5", "B2", "contacted", "2017-06-01"),
            ("S1", "B2", "contacted", ""),
        ],
        columns=["supplier_id", "buyer_id", "outcome", "date"],
    )
    firms = _firms(["S1", "S2", "S3", "S4", "S5"], ["B1", "B2"])
    return graph.Dataset.from_frames(firms=firms, links=links, outcomes=outcomes)


def test_temporal_hides_exactly_the_last_two_years(dated):
    train, heldout = split_temporal(dated)
    assert list(heldout.columns) == ["buyer_id", "supplier_id"]
    assert _pairs(heldout) == {("B1", "S4"), ("B2", "S2")}
    years = train.links["since"]
    assert years.dropna().max() == 2017
    assert years.isna().sum() == 2  # undated links stay in training
    assert len(train.links) == 5
    # Outcomes from the first hidden year on are gone; undated and earlier ones stay.
    assert set(train.outcomes["date"]) == {"2017-06-01", ""}
    # The full dataset is untouched.
    assert len(dated.links) == 8


def test_temporal_needs_three_years():
    links = pd.DataFrame(
        {"supplier_id": ["S1", "S2"], "buyer_id": ["B1", "B1"], "since": [2020, 2021]}
    )
    dataset = graph.Dataset.from_frames(firms=_firms(["S1", "S2"], ["B1"]), links=links)
    with pytest.raises(ValueError, match="three distinct years"):
        split_temporal(dataset)


# -- random -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wide() -> graph.Dataset:
    """Buyers with 25, 15, 14, 5 (six rows: one pair in two categories) and 4 suppliers."""
    suppliers = [f"S{i:02d}" for i in range(25)]
    rows = []
    for buyer, n in (("R1", 25), ("R2", 15), ("R5", 14), ("R3", 5), ("R4", 4)):
        rows += [(s, buyer, "c1") for s in suppliers[:n]]
    rows.append(("S00", "R3", "c2"))
    links = pd.DataFrame(rows, columns=["supplier_id", "buyer_id", "category_id"])
    outcomes = pd.DataFrame(
        {"supplier_id": suppliers[:5], "buyer_id": "R3", "outcome": "met", "date": "2024-01-01"}
    )
    firms = _firms(suppliers, ["R1", "R2", "R3", "R4", "R5"])
    return graph.Dataset.from_frames(firms=firms, links=links, outcomes=outcomes)


def test_random_hides_a_tenth_of_each_well_linked_buyer(wide):
    train, heldout = split_random(wide, seed=0)
    per_buyer = heldout["buyer_id"].value_counts().to_dict()
    # max(1, round half up of n / 10): 25 -> 3 (2.5 rounds up), 15 -> 2, 14 -> 1, 5 -> 1,
    # 4 -> not judged (fewer than five suppliers).
    assert per_buyer == {"R1": 3, "R2": 2, "R5": 1, "R3": 1}
    # Whole pairs go: no row of a hidden pair, whatever its category, is left in training.
    assert not _pairs(heldout) & _pairs(train.links)
    assert len(train.links) + len(heldout) + (heldout["buyer_id"] == "R3").sum() * (
        heldout.loc[heldout["buyer_id"] == "R3", "supplier_id"] == "S00"
    ).sum() == len(wide.links)
    # Outcomes of hidden pairs leave training with them.
    assert not _pairs(heldout) & _pairs(train.outcomes)
    assert len(train.outcomes) == 5 - (heldout["buyer_id"] == "R3").sum()


def test_random_same_seed_same_split(wide):
    a = split_random(wide, seed=7)[1]
    b = split_random(wide, seed=7)[1]
    pd.testing.assert_frame_equal(a, b)
    others = [_pairs(split_random(wide, seed=s)[1]) for s in range(8, 12)]
    assert any(o != _pairs(a) for o in others)


def test_cold_hides_every_link_of_a_share_of_the_well_linked_buyers(wide):
    train, heldout = split_cold(wide, seed=0, share=0.5)
    chosen = set(heldout["buyer_id"])
    # Four buyers have five or more suppliers (R4 has four): half of them, rounded half up.
    assert len(chosen) == 2 and "R4" not in chosen
    # Every pair of a chosen buyer is held out, and none of its links or outcomes is left.
    for buyer in chosen:
        assert _pairs(heldout[heldout["buyer_id"] == buyer]) == _pairs(
            wide.links[wide.links["buyer_id"] == buyer]
        )
    assert not train.links["buyer_id"].isin(chosen).any()
    assert not train.outcomes["buyer_id"].isin(chosen).any()
    # The other buyers keep all theirs; seeds draw other buyers.
    assert len(train.links) == (~wide.links["buyer_id"].isin(chosen)).sum()
    draws = {frozenset(split_cold(wide, seed=s, share=0.5)[1]["buyer_id"]) for s in range(6)}
    assert len(draws) > 1


def test_cold_start_buyers_are_judged_with_no_training_link(wide):
    methods = {"popular": lambda seed: PopularCapable()}
    result = evaluate(wide, holdout="cold", k=5, seeds=1, methods=methods)
    assert result.per_buyer is not None
    assert (result.per_buyer["training_links"] == 0).all()


# -- judging ----------------------------------------------------------------------------------
def test_fast_ranking_matches_a_full_sort():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 60))
        scores = rng.integers(0, 4, size=n).astype(float)  # plenty of ties
        tiebreak = rng.permutation(n).astype(float)
        full = np.lexsort((tiebreak, -scores))
        k = int(rng.integers(1, 12))
        np.testing.assert_array_equal(top_k(scores, tiebreak, k), full[:k])
        relevant = rng.choice(n, size=min(n, 3), replace=False)
        assert 1.0 / best_rank(scores, tiebreak, relevant) == reciprocal_rank(full, relevant)


def dated_blocks(seed: int = 0) -> graph.Dataset:
    """Three blocks (a category each) of 8 buyers and 10 suppliers, links dated 2016-2024."""
    rng = np.random.default_rng(seed)
    blocks, n_buy, n_sup = 3, 8, 10
    suppliers = [f"s{b}{i}" for b in range(blocks) for i in range(n_sup)]
    buyers = [f"b{b}{i}" for b in range(blocks) for i in range(n_buy)]
    rows = []
    for block in range(blocks):
        for i in range(n_buy):
            for j in rng.choice(n_sup, size=7, replace=False):
                rows.append((f"s{block}{j}", f"b{block}{i}", int(rng.integers(2016, 2025))))
            other = (block + 1) % blocks
            rows.append((f"s{other}{rng.integers(n_sup)}", f"b{block}{i}", 2016))
    links = pd.DataFrame(rows, columns=["supplier_id", "buyer_id", "since"])
    links = links.drop_duplicates(["supplier_id", "buyer_id"])
    return graph.Dataset.from_frames(
        firms=_firms(suppliers, buyers),
        links=links,
        capabilities=pd.DataFrame(
            {"firm_id": suppliers, "category_id": [f"c{s[1]}" for s in suppliers]}
        ),
        demands=pd.DataFrame({"firm_id": buyers, "category_id": [f"c{b[1]}" for b in buyers]}),
    )


@pytest.fixture(scope="module")
def blocks() -> graph.Dataset:
    return dated_blocks()


@pytest.mark.parametrize("holdout", ["temporal", "random"])
def test_evaluate_reports_every_method(blocks, holdout):
    methods = default_methods(include_model=False)
    result = evaluate(blocks, holdout=holdout, k=5, seeds=2, methods=methods)
    frame = result.to_frame()
    assert list(frame.index) == list(methods)
    assert list(frame.columns) == list(METRICS)
    for name in methods:
        for metric in METRICS:
            value = frame.loc[name, metric]
            if name in {"als", "ease"} and metric == "candidate_recall":
                assert math.isnan(value)  # ALS and EASE score everyone: no candidate step
            else:
                assert 0.0 <= value <= 1.0, (name, metric, value)
    assert result.judged_buyers > 0 and result.heldout_pairs >= result.judged_buyers
    assert set(result.per_seed["seed"]) == {0, 1}
    # Everything serialises for --json, NaN as null.
    json.dumps(result.to_dict(), allow_nan=False)
    text = result.to_markdown()
    assert "recall@5" in text and "itemknn" in text
    # The per-buyer values are the ones the reported means are made of.
    per_buyer = result.per_buyer.groupby(["method", "seed"], sort=False)["ndcg_at_k"].mean()
    reported = result.per_seed.set_index(["method", "seed"])["ndcg_at_k"]
    pd.testing.assert_series_equal(per_buyer, reported.loc[per_buyer.index], check_names=False)
    assert "1-2 links" in text


def test_ndcg_by_degree_by_hand():
    # Two methods, two seeds; buyers with 0, 2, 5, 12 and 30 training links.
    rows = []
    for method, shift in (("a", 0.0), ("b", 0.1)):
        for seed in (0, 1):
            for links, ndcg in ((0, 0.0), (2, 0.2), (5, 0.4), (12, 0.6), (30, 0.8)):
                rows.append((method, seed, f"x{links}", links, ndcg + shift * seed))
    per_buyer = pd.DataFrame(
        rows, columns=["method", "seed", "buyer_id", "training_links", "ndcg_at_k"]
    )
    metrics = pd.DataFrame({"ndcg_at_k": [0.4, 0.45]}, index=pd.Index(["a", "b"], name="method"))
    result = EvaluationResult(
        "random", 10, 2, metrics, metrics, 5.0, 5.0, None, "model", per_buyer=per_buyer
    )
    table = result.ndcg_by_degree()
    assert list(table.columns) == ["0", "1-2", "3-9", "10+"]
    assert list(table.index) == ["a", "b", "buyers"]
    np.testing.assert_allclose(table.loc["a"], [0.0, 0.2, 0.4, 0.7])
    # b: seed 1 adds 0.1 to every buyer, so each band's mean over seeds gains 0.05.
    np.testing.assert_allclose(table.loc["b"], [0.05, 0.25, 0.45, 0.75])
    np.testing.assert_allclose(table.loc["buyers"], [1, 1, 1, 2])
    json.dumps(result.to_dict(), allow_nan=False)


def test_evaluate_random_judges_the_same_buyers_for_every_method(blocks):
    result = evaluate(
        blocks,
        holdout="random",
        k=5,
        seeds=2,
        methods={"l3": lambda s: L3Paths(), "popular": lambda s: PopularCapable()},
    )
    counts = result.per_seed.groupby("seed")[["judged_buyers", "heldout_pairs"]].nunique()
    assert (counts == 1).all().all()
    # 24 buyers of 7 or 8 suppliers each hide one pair per seed.
    assert result.heldout_pairs == result.judged_buyers == 24


class _Reversed:
    name = "reversed"

    def fit(self, dataset):
        self.inner = L3Paths().fit(dataset)
        self.supplier_ids_ = self.inner.supplier_ids_
        return self

    def score_buyers(self, buyer_ids):
        return -self.inner.score_buyers(buyer_ids)


def test_evaluate_tells_a_bad_ranker_from_a_good_one(blocks):
    # Each buyer has 3 unlinked suppliers in its block besides the held-out one, and the
    # noise links give some suppliers of the next block many paths too.
    result = evaluate(
        blocks,
        holdout="random",
        k=5,
        seeds=1,
        methods={"l3": lambda s: L3Paths(), "reversed": lambda s: _Reversed()},
    )
    frame = result.to_frame()
    assert frame.loc["l3", "recall_at_k"] > 0.5
    assert frame.loc["reversed", "recall_at_k"] < 0.3
    assert frame.loc["l3", "auc"] > 0.7
    # Reversing every score turns each buyer's AUC a into 1 - a (ties count a half either way).
    assert frame.loc["reversed", "auc"] == pytest.approx(1 - frame.loc["l3", "auc"])
    # A method without candidates or a threshold has no candidate recall.
    assert math.isnan(frame.loc["reversed", "candidate_recall"])
    assert result.reliability is None  # no "model" among the methods


def test_evaluate_checks_its_arguments(blocks):
    with pytest.raises(ValueError, match="holdout"):
        evaluate(blocks, holdout="future")
    with pytest.raises(ValueError, match="seeds"):
        evaluate(blocks, seeds=0)


def test_evaluate_the_matcher_with_its_reliability_curve(tiny):
    dataset = graph.load_dataset(tiny)
    result = evaluate(dataset, holdout="temporal", k=3, seeds=1)
    assert "model" in result.to_frame().index
    curve = result.reliability
    assert curve is not None and len(curve) == 10
    assert curve["count"].sum() > 0
    assert curve["observed_rate"].dropna().between(0, 1).all()
