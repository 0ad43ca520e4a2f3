"""EASE inside the matcher: exact and truncated solutions, leakage-free training values, EASE's
best suppliers among the candidates, and the ranker chosen by inner validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from ketnoi import graph, matcher
from ketnoi.matcher._collaborative import fit_ease_signal, rp3beta_similarity, solve_ease
from ketnoi.matcher._features import BatchSignals, candidate_pairs, pair_features
from ketnoi.matcher._index import FirmIndex, build_snapshot, with_ease
from ketnoi.matcher._selection import ValidationRows, ranking_ndcg, select_ranker
from ketnoi.matcher._settings import AUTO_RANKERS
from ketnoi.matcher._training import training_set


def _dated_world(seed: int = 0, communities: int = 4) -> graph.Dataset:
    """Buyers source inside their community, a few links a year from 2015 to 2022."""
    rng = np.random.default_rng(seed)
    firms, links = [], []
    for c in range(communities):
        for j in range(15):
            firms.append({"firm_id": f"s{c}-{j:02d}", "name": f"S {c}-{j}", "role": "supplier"})
        for j in range(8):
            buyer = f"b{c}-{j}"
            firms.append({"firm_id": buyer, "name": f"B {c}-{j}", "role": "buyer"})
            for s in rng.choice(15, size=7, replace=False):
                links.append(
                    {
                        "supplier_id": f"s{c}-{s:02d}",
                        "buyer_id": buyer,
                        "since": int(rng.integers(2015, 2023)),
                    }
                )
    return graph.Dataset.from_frames(firms=pd.DataFrame(firms), links=pd.DataFrame(links))


def test_exact_signal_is_ease_and_truncation_keeps_the_most_linked() -> None:
    x = sp.csr_matrix(np.array([[1, 1, 0, 0, 1], [0, 1, 1, 0, 1], [1, 1, 1, 1, 0]]))
    exact = fit_ease_signal(x, 2.0, max_side=10)
    assert exact.exact
    np.testing.assert_allclose(
        exact.full_scores(np.arange(3)), solve_ease(x, 2.0).scores(np.arange(3))
    )
    cut = fit_ease_signal(x, 2.0, max_side=2)
    # Degrees 2, 3, 2, 1, 2: the two most linked (ties to the lower position) are 1 and 0.
    assert list(cut.columns) == [1, 0]
    assert list(cut.column_of) == [1, 0, -1, -1, -1]
    full = cut.full_scores(np.arange(3))
    covered = solve_ease(x[:, [1, 0]], 2.0).scores(np.arange(3))
    np.testing.assert_allclose(full[:, [1, 0]], covered)
    assert (full[:, 2:] < full[:, [0, 1]].min()).all()


def test_training_ease_values_never_see_the_positives_own_link() -> None:
    """Every positive's EASE and RP3beta scores are computed on the links before its year."""
    world = _dated_world()
    index = FirmIndex.from_dataset(world)
    settings = matcher.MatcherSettings(
        outcome_labels=False, max_snapshots=20, model="hgb", negatives_per_positive=3, rp3=True
    )
    train = training_set(index, world, settings, ease_l2=5.0)
    assert train.pairs is not None
    positive = train.labels == 1
    years = world.links.groupby(["buyer_id", "supplier_id"])["since"].min()
    checked = 0
    for row in np.flatnonzero(positive)[::7]:
        b, s = train.pairs[row]
        year = int(years[(index.buyer_ids[b], index.supplier_ids[s])])
        snap = build_snapshot(index, world.links, before_year=year)
        if snap.buyer_degree[b] == 0:
            assert np.isnan(train.features["ease_score"].iloc[row])
            continue
        expected = solve_ease(snap.links, 5.0).scores(np.array([b]))[0, s]
        assert train.features["ease_score"].iloc[row] == pytest.approx(expected, abs=1e-5)
        walk = (snap.links[b] @ rp3beta_similarity(snap.links, 1.0, 0.5, 100)).toarray()[0, s]
        assert train.features["rp3_score"].iloc[row] == pytest.approx(walk, abs=1e-9)
        checked += 1
    assert checked >= 5
    # With the own link in the snapshot the score differs: the check above can fail.
    full = build_snapshot(index, world.links)
    row = np.flatnonzero(positive)[-1]
    b, s = train.pairs[row]
    leaked = solve_ease(full.links, 5.0).scores(np.array([b]))[0, s]
    assert train.features["ease_score"].iloc[row] != pytest.approx(leaked, abs=1e-5)
    leaked_walk = (full.links[b] @ rp3beta_similarity(full.links, 1.0, 0.5, 100)).toarray()[0, s]
    assert train.features["rp3_score"].iloc[row] != pytest.approx(leaked_walk, abs=1e-9)


def test_ease_best_suppliers_are_always_candidates() -> None:
    world = _dated_world(seed=1)
    index = FirmIndex.from_dataset(world)
    snap = with_ease(build_snapshot(index, world.links), 5.0, 3000)
    buyers = np.arange(index.n_buyers)
    signals = BatchSignals.compute(index, snap, buyers)
    cb, cs, _ = candidate_pairs(index, snap, signals, max_candidates=3)
    assert signals.ease_top is not None
    for row, b in enumerate(buyers):
        mine = set(cs[cb == b])
        assert len(mine) <= 3
        assert set(signals.ease_top[row][:3]) <= mine
        assert not mine & set(snap.active[b].indices)
    features, _ = pair_features(index, snap, signals, cb, cs)
    # Every buyer here has links, so every candidate EASE covers has a score and a rank.
    assert features["ease_score"].notna().all()
    first = features.groupby(cb)["ease_rank"].min()
    assert np.allclose(first, np.log(2.0))  # each buyer's EASE favourite ranks first


def test_ranking_ndcg_counts_links_the_candidates_missed() -> None:
    rows = ValidationRows(
        pd.DataFrame(index=range(4)),
        np.array([1.0, 0.0, 0.0, 1.0]),
        np.array([0, 0, 1, 1]),
        np.array([3, 4, 3, 4]),
        pd.Series({0: 1, 1: 2, 2: 1}),  # buyer 2's link was never a candidate
        0,
    )
    # Buyer 0: found at rank 1 (1.0); buyer 1: 1 of 2 at rank 2 (0.6309 / 1.6309); buyer 2: 0.
    expected = (1.0 + (1 / np.log2(3)) / (1 + 1 / np.log2(3)) + 0.0) / 3
    assert ranking_ndcg(rows, np.array([0.9, 0.1, 0.8, 0.2])) == pytest.approx(expected)
    assert ranking_ndcg(rows, np.array([0.1, 0.9, 0.2, 0.8])) < expected


def test_inner_validation_prefers_link_rankers_on_a_link_only_world() -> None:
    """On links alone, the profile-only ranker has nothing to go on and must lose."""
    world = _dated_world(seed=2, communities=5)
    index = FirmIndex.from_dataset(world)
    settings = matcher.MatcherSettings(outcome_labels=False, min_positives=5)
    train = training_set(index, world, settings, ease_l2=5.0)
    assert train.validation is not None
    chosen, table, _ = select_ranker(
        train.features, train.labels, train.groups, train.validation, settings
    )
    scores = {row["ranker"]: row["inner_ndcg@10"] for row in table}
    # Every ranker, and the best learned one blended with EASE's (its weight recorded).
    blends = [row for row in table if "+" in row["ranker"]]
    assert set(scores) == set(matcher.RANKERS) | {blends[0]["ranker"]} and len(blends) == 1
    assert blends[0]["ranker"].endswith("+ease") and 0 < blends[0]["weight"] < 1
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert chosen != "hgb_profile"
    assert scores["hgb_profile"] < max(scores["ease"], scores["hgb_graph"])


def test_fit_records_the_choice_and_the_model_file_keeps_it(tmp_path) -> None:
    world = _dated_world(seed=3)
    fitted = matcher.Matcher(matcher.MatcherSettings(min_positives=5)).fit(world)
    names = {row["ranker"] for row in fitted.selection_}
    assert fitted.ranker_ in names and set(AUTO_RANKERS) < names and "lgbm_rank" not in names
    assert fitted.ease_l2_ in {5.0, 20.0, 50.0, 200.0, 800.0}
    loaded = matcher.load_matcher(fitted.save(tmp_path / "m.joblib"), world)
    assert loaded.ranker_ == fitted.ranker_ and loaded.selection_ == fitted.selection_
    # Calibrated on the held-back candidates: a positive slope, kept in the model file.
    assert fitted.calibration_ is not None and fitted.calibration_[0] > 0
    assert loaded.calibration_ == fitted.calibration_
    pd.testing.assert_frame_equal(loaded.recommend("b0-0"), fitted.recommend("b0-0"))
