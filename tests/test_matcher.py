"""The matcher: estimator contract, hand-computed answers on fixtures/tiny, persistence, rules."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from ketnoi import graph, matcher
from ketnoi.matcher._features import BatchSignals, pair_features
from ketnoi.matcher._index import FirmIndex, build_snapshot
from ketnoi.matcher._training import training_set

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny() -> graph.Dataset:
    return graph.load_dataset(ROOT / "fixtures" / "tiny")


@pytest.fixture(scope="module")
def fitted(tiny: graph.Dataset) -> matcher.Matcher:
    return matcher.Matcher().fit(tiny)


# -- the estimator contract ------------------------------------------------------------------


def test_init_only_stores_settings() -> None:
    settings = matcher.MatcherSettings(max_candidates=7)
    m = matcher.Matcher(settings)
    assert m.settings is settings
    assert not [name for name in vars(m) if name.endswith("_")]


def test_unfitted_matcher_raises_a_clear_error() -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        matcher.Matcher().recommend("B1")
    with pytest.raises(NotFittedError):
        matcher.Matcher().save("unused.joblib")


def test_fit_returns_self_and_sets_learned_state(tiny: graph.Dataset) -> None:
    m = matcher.Matcher()
    assert m.fit(tiny) is m
    assert m.feature_names_ == list(matcher.FEATURES)
    # Six linked pairs and one that met: fewer than min_positives, the prior ranks.
    assert m.mode_ == "prior"
    assert m.n_positives_ == 7


def test_settings_reject_unknown_values(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="require_certifications"):
        matcher.MatcherSettings(require_certifications="maybe")
    path = tmp_path / "s.toml"
    path.write_text("[matcher]\nmax_candidates = 50\nbogus = 1\n")
    with pytest.raises(ValueError, match="bogus"):
        matcher.MatcherSettings.from_file(path)
    path.write_text("[matcher]\nmax_candidates = 50\n")
    assert matcher.MatcherSettings.from_file(path).max_candidates == 50


# -- hand-computed answers on fixtures/tiny ------------------------------------------------------


def test_recommendations_for_b1(fitted: matcher.Matcher) -> None:
    rows = fitted.recommend("B1", k=10)
    assert list(rows.columns[:7]) == matcher.RECOMMENDATION_COLUMNS
    # T1 and S2 already supply B1 (active), S4 is unlisted: S1, S3 and S5 are left.
    assert set(rows["supplier_id"]) == {"S1", "S3", "S5"}
    assert list(rows["rank"]) == [1, 2, 3]
    by_supplier = rows.set_index("supplier_id")
    # S3 makes screws, which B1 demands; S1 makes PCBs, a sibling of the PCB assemblies it demands.
    assert by_supplier.loc["S3", "category_id"] == "screw"
    assert by_supplier.loc["S1", "category_id"] == "pcba"
    assert by_supplier.loc["S5", "category_id"] == "stamp"
    assert (rows["tier"] == 1).all()
    assert rows["score"].is_monotonic_decreasing


def test_candidates_for_b2_come_from_category_fit_and_the_link_graph(
    fitted: matcher.Matcher,
) -> None:
    # B2 demands stamped parts and screws; S3 and S2 supply it already. S5 makes stamped
    # parts (its link to B2 has ended); T1 is reached by the path B2-S2-B1-T1.
    assert set(fitted.candidates(["B2"])["supplier_id"]) == {"S5", "T1"}


def test_features_of_a_pair_by_hand(fitted: matcher.Matcher) -> None:
    index, snap = fitted.index_, fitted.snapshot_
    b, s = index.buyer_index("B2"), index.supplier_index("T1")
    signals = BatchSignals.compute(index, snap, np.array([b]))
    features, facts = pair_features(index, snap, signals, np.array([b]), np.array([s]))
    row = features.iloc[0]
    assert row["fit_level"] == 0  # T1 makes PCB assemblies; B2 needs metal parts
    assert row["l3_paths"] == pytest.approx(np.log(2))  # one path: B2-S2-B1-T1
    # 1/sqrt(deg S2 = 2) * 1/sqrt(deg B1 = 2): weighted by the middle firms' degrees
    assert row["l3_normalised"] == pytest.approx(0.5)
    assert row["supplier_popularity"] == pytest.approx(np.log(2))  # T1 supplies B1
    assert row["same_origin_buyers"] == 0  # T1 supplies a Japanese buyer; B2 is Korean
    assert facts["shared_buyers"].iloc[0] == 1  # B1 shares S2 with B2 and buys from T1


def test_reasons_name_the_category_and_the_requirement(fitted: matcher.Matcher) -> None:
    rows = fitted.recommend("B1", k=10).set_index("supplier_id")
    s1 = rows.loc["S1", "reasons"]
    assert "holds ISO 9001, which the buyer requires" in s1
    assert any("same park (Khu công nghiệp Thăng Long)" in r for r in s1)
    s3 = rows.loc["S3", "reasons"]
    assert s3[0] == "makes screws and bolts (HS 7318), which the buyer demands"
    assert "capacity 1,000,000 units/yr covers the 500,000 units/yr demanded" in s3


def test_reasons_in_vietnamese(fitted: matcher.Matcher) -> None:
    rows = fitted.recommend("B1", k=10, lang="vi").set_index("supplier_id")
    assert rows.loc["S3", "reasons"][0] == (
        "sản xuất vít và bu lông (HS 7318), mặt hàng bên mua có nhu cầu"
    )
    with pytest.raises(ValueError, match="lang"):
        fitted.recommend("B1", lang="fr")


def test_explain_reports_what_blocks_a_pair(fitted: matcher.Matcher) -> None:
    report = fitted.explain("S5", "B2")
    assert report["category_id"] == "stamp"
    assert report["blockers"] == [
        "lacks IATF 16949, which the buyer requires",
        "capacity short: 5,000 units/yr against 8,000 units/yr demanded",
    ]
    assert "supplied this buyer before (the link has ended)" in report["reasons"]
    assert {c["feature"] for c in report["contributions"]} == set(matcher.FEATURES)
    unlisted = fitted.explain("S4", "T1")
    assert unlisted["blockers"][0].startswith("the supplier is unlisted")
    linked = fitted.explain("S2", "B1")
    assert "already an active supplier of this buyer" in linked["blockers"]


def test_hard_rules_drop_what_soft_rules_keep(tiny: graph.Dataset) -> None:
    soft = matcher.Matcher().fit(tiny)
    hard = matcher.Matcher(
        matcher.MatcherSettings(require_certifications="hard", require_capacity="hard")
    ).fit(tiny)
    assert "S5" in set(soft.recommend("B2")["supplier_id"])
    # S5 lacks IATF 16949 and has 5,000 of the 8,000 units B2 demands.
    assert "S5" not in set(hard.recommend("B2")["supplier_id"])
    near = matcher.Matcher(matcher.MatcherSettings(max_distance_km=10)).fit(tiny)
    assert set(near.recommend("B1")["supplier_id"]) == {"S1"}  # S3 15 km, S5 24 km away


def test_filters(fitted: matcher.Matcher) -> None:
    assert set(fitted.recommend("B1", category="metal")["supplier_id"]) == {"S3", "S5"}
    assert set(fitted.recommend("B1", park="thang-long")["supplier_id"]) == {"S1"}
    assert set(fitted.recommend("B1", certification="ipc-a-610")["supplier_id"]) == {"S1"}
    filtered = fitted.recommend("B1", category="metal")
    assert list(filtered["rank"]) == [1, 2]
    with pytest.raises(KeyError):
        fitted.recommend("B1", category="nonexistent")


def test_fewer_candidates_than_k_gives_fewer_rows(fitted: matcher.Matcher) -> None:
    assert len(fitted.recommend("B2", k=50)) == 2
    assert len(fitted.recommend("B1", k=1)) == 1


def test_unknown_buyer_is_a_key_error(fitted: matcher.Matcher) -> None:
    with pytest.raises(KeyError, match="not a buyer"):
        fitted.recommend("S1")


def test_suggest_buyers(fitted: matcher.Matcher) -> None:
    rows = fitted.suggest_buyers("S5")
    # S5 makes stamped parts: B1 and B2 demand them (B2's link to S5 ended, so it is new again).
    assert set(rows["buyer_id"]) == {"B1", "B2"}
    assert (rows["supplier_id"] == "S5").all()
    assert list(rows["rank"]) == [1, 2]


def test_chain_has_existing_tiers_and_recommendations(fitted: matcher.Matcher) -> None:
    chain = fitted.chain("B1", depth=3)
    existing = chain[chain["existing"]]
    assert set(
        zip(existing["supplier_id"], existing["tier"], existing["parent_id"], strict=True)
    ) == {
        ("S2", 1, "B1"),
        ("T1", 1, "B1"),
        ("S1", 2, "T1"),
    }
    new = chain[~chain["existing"]]
    assert set(new["supplier_id"]) == {"S3", "S5"}
    assert (new["tier"] == 1).all() and (new["parent_id"] == "B1").all()
    assert chain["supplier_id"].is_unique


def test_precomputed_rankings_answer_the_same(tiny: graph.Dataset) -> None:
    live = matcher.Matcher().fit(tiny)
    cached = matcher.Matcher().fit(tiny).precompute()
    assert cached.rankings_  # the ranking is in memory
    for buyer in ("B1", "B2", "T1"):
        pd.testing.assert_frame_equal(live.recommend(buyer), cached.recommend(buyer))


# -- leakage ----------------------------------------------------------------------------------


def test_training_features_come_from_links_before_the_year(tiny: graph.Dataset) -> None:
    index = FirmIndex.from_dataset(tiny)
    # Links only: the outcome labels have their own tests (tests/test_feedback.py).
    train = training_set(index, tiny, matcher.MatcherSettings(outcome_labels=False))
    positives = train.features[train.labels == 1]
    assert len(positives) == 6
    # Before 2018 only S5 -> B2 (2017) exists, so T1 -> B1 (2018) sees no popularity for T1
    # and S2 -> B1 (2020) sees no own link: every positive's own link is absent.
    assert (positives["supplier_popularity"] <= np.log(2) + 1e-12).all()
    first = tiny.links.sort_values("since").iloc[0]
    assert first["since"] == 2017
    assert positives["l3_paths"].iloc[0] == 0


def test_graph_signals_exclude_the_pairs_own_link() -> None:
    """The closed-form own-link correction equals recomputing on the graph without the link."""
    world = _block_world(seed=3)
    index = FirmIndex.from_dataset(world)
    snap = build_snapshot(index, world.links, None)
    coo = snap.links.tocoo()
    cols = ["l3_paths", "l3_normalised", "similar_buyers_aa", "similar_suppliers_aa"]
    for i in range(0, len(coo.row), max(1, len(coo.row) // 15)):
        b, s = int(coo.row[i]), int(coo.col[i])
        sig = BatchSignals.compute(index, snap, np.array([b]))
        with_link, _ = pair_features(index, snap, sig, np.array([b]), np.array([s]))
        drop = (
            (world.links["buyer_id"] == index.buyer_ids[b])
            & (world.links["supplier_id"] == index.supplier_ids[s])
        ).to_numpy()
        snap2 = build_snapshot(index, world.links, None, drop=drop)
        sig2 = BatchSignals.compute(index, snap2, np.array([b]))
        without, _ = pair_features(index, snap2, sig2, np.array([b]), np.array([s]))
        np.testing.assert_allclose(with_link[cols].to_numpy(), without[cols].to_numpy(), atol=1e-9)


# -- persistence ------------------------------------------------------------------------------


def test_model_file_round_trip(
    tmp_path: Path, fitted: matcher.Matcher, tiny: graph.Dataset
) -> None:
    path = fitted.save(tmp_path / "model.joblib")
    loaded = matcher.load_matcher(path, tiny)
    pd.testing.assert_frame_equal(loaded.recommend("B1"), fitted.recommend("B1"))


def test_model_file_from_another_version_is_refused(
    tmp_path: Path, fitted: matcher.Matcher
) -> None:
    import joblib

    path = fitted.save(tmp_path / "model.joblib")
    payload = joblib.load(path)
    joblib.dump({**payload, "version": "0.0.1"}, path)
    with pytest.raises(matcher.ModelFileError, match="made by ketnoi 0.0.1"):
        matcher.load_matcher(path)
    joblib.dump({**payload, "features": ["fit_level"]}, path)
    with pytest.raises(matcher.ModelFileError, match="feature list"):
        matcher.load_matcher(path)
    (tmp_path / "junk.joblib").write_bytes(b"not a model")
    with pytest.raises(matcher.ModelFileError):
        matcher.load_matcher(tmp_path / "junk.joblib")


def test_changed_data_is_a_warning(
    tmp_path: Path, fitted: matcher.Matcher, tiny: graph.Dataset
) -> None:
    path = fitted.save(tmp_path / "model.joblib")
    changed = dataclasses.replace(tiny, links=tiny.links.iloc[:-1].reset_index(drop=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        matcher.load_matcher(path, changed)
    assert any("differ from the data" in str(w.message) for w in caught)


# -- data shapes ------------------------------------------------------------------------------


def test_link_only_dataset_gets_recommendations() -> None:
    world = _block_world(seed=1)
    link_only = graph.Dataset.from_frames(
        firms=world.firms[["firm_id", "name", "role"]],
        links=world.links[["supplier_id", "buyer_id"]],
    )
    m = matcher.Matcher().fit(link_only)
    assert m.mode_ == "learned"
    rows = m.recommend(link_only.buyer_ids[0], k=5)
    assert len(rows) == 5
    assert (rows["category_id"] == "").all()


def test_no_links_at_all_ranks_with_the_prior(tiny: graph.Dataset) -> None:
    empty = dataclasses.replace(tiny, links=tiny.links.iloc[:0])
    m = matcher.Matcher().fit(empty)
    assert m.mode_ == "prior"
    rows = m.recommend("B2")
    # Only category fit is left: S2, S3 and S5 make what B2 demands or something next to it.
    assert set(rows["supplier_id"]) >= {"S2", "S3", "S5"}
    assert rows.iloc[0]["category_id"] in {"stamp", "screw"}


def test_new_buyer_without_links_gets_recommendations_from_its_profile(
    tiny: graph.Dataset,
) -> None:
    firms = pd.concat(
        [
            tiny.firms,
            pd.DataFrame([{"firm_id": "B3", "name": "New buyer", "role": "buyer", "listed": True}]),
        ],
        ignore_index=True,
    )
    demands = pd.concat(
        [tiny.demands, pd.DataFrame([{"firm_id": "B3", "category_id": "pcb"}])], ignore_index=True
    )
    frames = {name: tiny.frame(name) for name in graph.FILE_ORDER}
    frames.update(firms=firms, demands=demands)
    data = graph.Dataset.from_frames(**frames)
    rows = matcher.Matcher().fit(data).recommend("B3")
    assert rows.iloc[0]["supplier_id"] == "S1"  # the one listed maker of PCBs
    assert "S4" not in set(rows["supplier_id"])  # unlisted


# -- helpers ----------------------------------------------------------------------------------


def _block_world(
    seed: int, communities: int = 4, per: int = 12, buyers_per: int = 6
) -> graph.Dataset:
    """Buyers link to suppliers of their own community: a planted structure."""
    rng = np.random.default_rng(seed)
    firms, links = [], []
    for c in range(communities):
        for j in range(per):
            firms.append({"firm_id": f"s{c}-{j:02d}", "name": f"S {c}-{j}", "role": "supplier"})
        for j in range(buyers_per):
            buyer = f"b{c}-{j}"
            firms.append({"firm_id": buyer, "name": f"B {c}-{j}", "role": "buyer"})
            for s in rng.choice(per, size=6, replace=False):
                links.append({"supplier_id": f"s{c}-{s:02d}", "buyer_id": buyer})
    return graph.Dataset.from_frames(firms=pd.DataFrame(firms), links=pd.DataFrame(links))


# -- filters and weak rows ---------------------------------------------------------------------


def test_filters_by_ownership_sector_and_park_name(fitted: matcher.Matcher) -> None:
    def ids(**filters: str) -> list[str]:
        return sorted(fitted.recommend("B1", k=20, **filters)["supplier_id"])

    everyone = ids()
    assert len(everyone) >= 3
    assert ids(ownership="jv") == [s for s in everyone if s == "S3"]
    assert ids(ownership="local") == everyone  # no foreign-invested supplier among them
    assert ids(ownership="fdi") == []
    assert ids(sector="PRECISION engineering") == [s for s in everyone if s in {"S2", "S3", "S5"}]
    # A park by its name typed without accents, or by the start of it, finds the same suppliers.
    by_id = ids(park="thang-long")
    assert by_id and ids(park="khu cong nghiep thang long") == by_id
    assert ids(park="Thăng Long") == by_id
    with pytest.raises(KeyError, match="several parks"):
        fitted.recommend("B1", park="khu cong nghiep")
    with pytest.raises(KeyError, match="not a park"):
        fitted.recommend("B1", park="Noi Bai")
    with pytest.raises(KeyError, match="not an ownership"):
        fitted.recommend("B1", ownership="foreign")


def test_weak_rows_are_left_out_rather_than_padding_the_list(tiny: graph.Dataset) -> None:
    keep_all = matcher.Matcher(matcher.MatcherSettings(min_score=0.0)).fit(tiny)
    rows = keep_all.recommend("B1", k=20)
    cut = float(rows["score"].median())
    strict = matcher.Matcher(matcher.MatcherSettings(min_score=cut)).fit(tiny)
    kept = strict.recommend("B1", k=20)
    assert 0 < len(kept) < len(rows)
    assert (kept["score"] >= cut).all()
    assert list(kept["rank"]) == list(range(1, len(kept) + 1))
    listed = strict.match_list(["B1"], k=20)
    assert list(listed["supplier_id"]) == list(kept["supplier_id"])
