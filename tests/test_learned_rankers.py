"""Lambdarank and the learned blend with EASE: the two rankers model selection gained last."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from ketnoi import graph, matcher
from ketnoi.matcher import _model
from ketnoi.matcher._blend import BlendedRanker, blend_weight, buyer_ndcg
from ketnoi.matcher._lambdarank import LambdaRanker, query_ids

pytest.importorskip("lightgbm")


def _ranking_problem(seed: int = 0, n_queries: int = 60, per_query: int = 20):
    """Queries whose links depend on the first feature only (the second is noise)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_queries * per_query, 2))
    query = np.repeat(np.arange(n_queries), per_query)
    y = (x[:, 0] + 0.3 * rng.normal(size=len(x)) > 1.0).astype(float)
    return pd.DataFrame(x, columns=["signal", "noise"]), y, query


def test_query_ids_separate_periods_and_buyers() -> None:
    # Buyer 5 in period 0 and in period 1 are two queries; buyer 7 in period 0 a third.
    assert query_ids(np.array([1, 0, 0, 1]), np.array([5, 5, 7, 5])).tolist() == [2, 0, 1, 2]


def test_lambdarank_learns_the_order_within_queries() -> None:
    x, y, query = _ranking_problem()
    fitted = LambdaRanker(n_estimators=50, min_child_samples=5).fit(x, y, query=query)
    proba = fitted.predict_proba(x)
    assert proba.shape == (len(x), 2) and np.all((proba >= 0) & (proba <= 1))
    assert np.allclose(proba.sum(axis=1), 1.0)
    # The learned score follows the signal, not the noise.
    score = fitted.decision_function(x)
    assert np.corrcoef(score, x["signal"])[0, 1] > 0.8
    assert abs(np.corrcoef(score, x["noise"])[0, 1]) < 0.3


def test_lambdarank_cuts_a_query_larger_than_lightgbm_takes() -> None:
    # One query of 12,000 rows: LightGBM refuses queries above 10,000 rows.
    x, y, _ = _ranking_problem(n_queries=600)
    fitted = LambdaRanker(n_estimators=5).fit(x, y, query=np.zeros(len(y), np.int64))
    assert fitted.decision_function(x).shape == (len(x),)


def test_lambdarank_without_lightgbm_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "lightgbm", None)  # import lightgbm now fails
    x, y, query = _ranking_problem()
    with pytest.raises(ImportError, match=r"ketnoi\[ml\]"):
        LambdaRanker().fit(x, y, query=query)


def test_blend_weight_is_judged_on_the_half_that_did_not_choose_it() -> None:
    # Half the buyers (by the seeded split) prefer 0.2, the other half 0.8: each half is scored
    # with the other's choice, so the blend's figure is below the best single weight's.
    rng = np.random.default_rng(0)
    half = rng.permutation(8) % 2 == 0
    low = pd.Series(np.where(half, 0.9, 0.1))
    high = pd.Series(np.where(half, 0.1, 0.8))
    weight, crossed, means = blend_weight({0.2: low, 0.8: high}, seed=0)
    assert weight == 0.2 and means[0.2] == pytest.approx(0.5)
    # Each half takes the weight the other half prefers: 0.1 for every buyer.
    assert crossed == pytest.approx(0.1)


def test_buyer_ndcg_by_hand() -> None:
    # Buyer 0: its one link at rank 2 (1 / log2 3); buyer 1: no candidate found (0).
    ndcg = buyer_ndcg(
        np.array([0, 0]),
        np.array([3, 4]),
        np.array([0.0, 1.0]),
        pd.Series({0: 1, 1: 2}),
        np.array([0.8, 0.2]),
    )
    assert ndcg.to_dict() == pytest.approx({0: 1 / np.log2(3), 1: 0.0})


def test_blended_ranker_is_the_weighted_log_odds() -> None:
    x, y, query = _ranking_problem()
    a = LambdaRanker(n_estimators=20, min_child_samples=5)
    b = LambdaRanker(n_estimators=20, min_child_samples=5, random_state=1)
    blend = BlendedRanker(a, b, weight=0.25).fit(
        x, y, first_params={"query": query}, second_params={"query": query}
    )
    expected = 0.25 * blend.first_.decision_function(x) + 0.75 * blend.second_.decision_function(x)
    p = blend.predict_proba(x)[:, 1]
    assert np.allclose(np.log(p / (1 - p)), expected, atol=1e-6)


def test_rankers_setting_validates_and_takes_a_list() -> None:
    assert matcher.MatcherSettings(rankers=["hgb", "ease"]).rankers == ("hgb", "ease")
    with pytest.raises(ValueError, match="rankers"):
        matcher.MatcherSettings(rankers=("hgb", "forest"))
    with pytest.raises(ValueError, match="rankers"):
        matcher.MatcherSettings(rankers=())


def _dated_world(seed: int) -> graph.Dataset:
    """Buyers source inside their community, a few links a year from 2015 to 2022."""
    rng = np.random.default_rng(seed)
    firms, links = [], []
    for c in range(4):
        firms += [
            {"firm_id": f"s{c}-{j}", "name": f"S{c}{j}", "role": "supplier"} for j in range(15)
        ]
        for j in range(8):
            firms.append({"firm_id": f"b{c}-{j}", "name": f"B{c}{j}", "role": "buyer"})
            links += [
                {"supplier_id": f"s{c}-{s}", "buyer_id": f"b{c}-{j}", "since": 2015 + int(s) % 8}
                for s in rng.choice(15, size=7, replace=False)
            ]
    return graph.Dataset.from_frames(firms=pd.DataFrame(firms), links=pd.DataFrame(links))


def test_auto_leaves_lambdarank_out_without_lightgbm(monkeypatch) -> None:
    monkeypatch.setattr(_model, "lightgbm_available", lambda: False)
    world = _dated_world(seed=3)
    settings = matcher.MatcherSettings(min_positives=5, rankers=("hgb", "lgbm_rank"))
    fitted = matcher.Matcher(settings).fit(world)
    names = {row["ranker"] for row in fitted.selection_}
    assert names == {"hgb"} and fitted.ranker_ == "hgb"


def test_auto_compares_lambdarank_when_named() -> None:
    world = _dated_world(seed=3)
    settings = matcher.MatcherSettings(min_positives=5, rankers=("hgb", "lgbm_rank", "ease"))
    fitted = matcher.Matcher(settings).fit(world)
    names = {row["ranker"] for row in fitted.selection_}
    assert {"hgb", "lgbm_rank", "ease"} < names and len(names) == 4  # and one blend
    assert fitted.ranker_ in names
