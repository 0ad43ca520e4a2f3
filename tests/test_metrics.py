"""Ranking and calibration metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ketnoi.matcher._metrics import (
    auc,
    catalogue_coverage,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
    reliability_curve,
)

RANKED = ["a", "b", "c", "d"]
RELEVANT = {"b", "d"}
LOG3 = math.log2(3)  # discount of position 2
LOG5 = math.log2(5)  # discount of position 4


def test_recall_at_k_worked_example():
    # top 1 = [a]: no hit; top 2 = [a, b]: b of {b, d}; top 4: both.
    assert recall_at_k(RANKED, RELEVANT, 1) == 0.0
    assert recall_at_k(RANKED, RELEVANT, 2) == 0.5
    assert recall_at_k(RANKED, RELEVANT, 4) == 1.0
    # k beyond the list: still both found.
    assert recall_at_k(RANKED, RELEVANT, 10) == 1.0


def test_precision_at_k_worked_example():
    # top 2 holds one hit of two places; top 4 two of four; top 10 two of ten places.
    assert precision_at_k(RANKED, RELEVANT, 2) == 0.5
    assert precision_at_k(RANKED, RELEVANT, 4) == 0.5
    assert precision_at_k(RANKED, RELEVANT, 10) == 0.2


def test_ndcg_at_k_worked_example():
    # k=2: DCG = 1/log2(3) (b at position 2); ideal puts 2 hits first: 1 + 1/log2(3).
    assert ndcg_at_k(RANKED, RELEVANT, 2) == pytest.approx((1 / LOG3) / (1 + 1 / LOG3))
    # k=4: DCG = 1/log2(3) + 1/log2(5); ideal still has only two hits: 1 + 1/log2(3).
    expected = (1 / LOG3 + 1 / LOG5) / (1 + 1 / LOG3)
    assert ndcg_at_k(RANKED, RELEVANT, 4) == pytest.approx(expected)
    assert expected == pytest.approx(0.650921, abs=1e-6)
    # k=1: no hit at position 1 -> 0; ideal over min(1, 2) = 1 place.
    assert ndcg_at_k(RANKED, RELEVANT, 1) == 0.0
    # Perfect order gives 1 whatever k.
    assert ndcg_at_k(["b", "d", "a"], RELEVANT, 3) == pytest.approx(1.0)


def test_reciprocal_rank_worked_example():
    assert reciprocal_rank(RANKED, RELEVANT) == 0.5  # first hit, b, at position 2
    assert reciprocal_rank(RANKED, {"d"}) == 0.25
    assert reciprocal_rank(RANKED, {"z"}) == 0.0


def test_nothing_relevant_is_nan_not_zero():
    assert math.isnan(recall_at_k(RANKED, set(), 3))
    assert math.isnan(ndcg_at_k(RANKED, set(), 3))


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="k must be"):
        recall_at_k(RANKED, RELEVANT, 0)


def test_metrics_take_arrays_of_positions():
    ranked = np.array([3, 1, 2, 0])
    assert recall_at_k(ranked, np.array([1, 0]), 2) == 0.5


def test_auc_worked_example():
    # Positives 0.9 and 0.5, negatives 0.5 and 0.1. Pairs (pos, neg):
    # (0.9, 0.5) win, (0.9, 0.1) win, (0.5, 0.5) tie = 1/2, (0.5, 0.1) win -> 3.5 / 4.
    assert auc([0.9, 0.5, 0.5, 0.1], [True, True, False, False]) == 0.875
    # Order of the items does not matter.
    assert auc([0.1, 0.5, 0.9, 0.5], [False, False, True, True]) == 0.875
    assert auc([3, 2, 1], [True, False, False]) == 1.0
    assert auc([1, 2, 3], [True, False, False]) == 0.0
    # All tied: a coin toss.
    assert auc([1, 1, 1, 1], [True, False, True, False]) == 0.5


def test_auc_needs_both_classes():
    assert math.isnan(auc([0.3, 0.2], [True, True]))
    assert math.isnan(auc([0.3, 0.2], [False, False]))
    with pytest.raises(ValueError, match="shape"):
        auc([0.1, 0.2], [True])


def test_auc_agrees_with_scikit_learn():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, size=200).astype(float)  # many ties
    labels = rng.random(200) < 0.3
    assert auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))


def test_catalogue_coverage_worked_example():
    # {a, b} ∪ {b, c} = {a, b, c}: 3 of 6 items.
    assert catalogue_coverage([["a", "b"], ["b", "c"]], 6) == 0.5
    assert catalogue_coverage([], 6) == 0.0
    with pytest.raises(ValueError):
        catalogue_coverage([["a"]], 0)


def test_reliability_curve_worked_example():
    scores = [0.05, 0.15, 0.12, 0.95, 1.0]
    labels = [False, True, False, True, True]
    curve = reliability_curve(scores, labels, bins=10)
    assert list(curve.columns) == ["bin_low", "bin_high", "mean_score", "observed_rate", "count"]
    assert len(curve) == 10
    assert curve["count"].sum() == 5
    # Bin [0, 0.1): 0.05, no event.
    assert curve.loc[0, "mean_score"] == pytest.approx(0.05)
    assert curve.loc[0, "observed_rate"] == 0.0
    # Bin [0.1, 0.2): 0.15 and 0.12 -> mean 0.135, one event of two.
    assert curve.loc[1, "mean_score"] == pytest.approx(0.135)
    assert curve.loc[1, "observed_rate"] == 0.5
    # Bin [0.9, 1.0]: 0.95 and 1.0 (the top edge belongs to the last bin).
    assert curve.loc[9, "count"] == 2
    assert curve.loc[9, "mean_score"] == pytest.approx(0.975)
    assert curve.loc[9, "observed_rate"] == 1.0
    # Empty bins stay, with NaN means.
    assert curve.loc[5, "count"] == 0
    assert math.isnan(curve.loc[5, "observed_rate"])
    assert curve.loc[3, "bin_low"] == pytest.approx(0.3)
    assert curve.loc[3, "bin_high"] == pytest.approx(0.4)


def test_reliability_curve_rejects_scores_outside_unit_interval():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        reliability_curve([0.5, 1.2], [True, False])
    with pytest.raises(ValueError, match="bins"):
        reliability_curve([0.5], [True], bins=0)
