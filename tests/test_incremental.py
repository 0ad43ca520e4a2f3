"""Incremental rescoring equals a full rescoring of the same frozen model, change by change.

A small generated world with profiles (categories, demands, capabilities, certifications,
outcomes), a scorer fitted once; for every kind of change, seeded random instances: the lists
:func:`rescore` keeps and remakes must equal :func:`full_rankings` of the changed data with the
same frozen global matrices (ids, ranks, scores, categories and reasons), and so must what the
state remembers for the next change. Candidate lists are cut short (30 per buyer) and, in one
run, the similar-buyer lists too (5 of more than 10), so that the cuts, where a change moves
who makes the list, are exercised; the generated world's buyers are too few to cut by default.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketnoi import graph, matcher
from ketnoi.matcher import _features
from ketnoi.matcher._frozen import FrozenGlobals, frozen_matcher
from ketnoi.matcher._incremental import (
    RULES,
    RankingState,
    affected_buyers,
    full_rankings,
    rescore,
    served_matcher,
)

ROOT = Path(__file__).resolve().parents[1]
Frames = dict[str, pd.DataFrame]


def _generator():  # type: ignore[no-untyped-def]
    name = "ketnoi_fixture_make_synthetic"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, ROOT / "fixtures" / "make_synthetic.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fitted() -> matcher.Matcher:
    world = _generator().make_world(500, 70, 3_000, seed=5, profiles=True, outcomes=True)
    settings = matcher.MatcherSettings(max_candidates=30)
    return matcher.Matcher(settings).fit(graph.Dataset.from_frames(**world))


@pytest.fixture(params=["all neighbours", "5 neighbours"])
def neighbours(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "5 neighbours":
        monkeypatch.setattr(_features, "ALL_NEIGHBOURS_UP_TO", 10)
        monkeypatch.setattr(_features, "NEIGHBOUR_BUYERS", 5)
    return str(request.param)


@pytest.fixture
def start(fitted: matcher.Matcher, neighbours: str) -> RankingState:
    return full_rankings(fitted, k=10)


# -- changes ---------------------------------------------------------------------------------
def _pick(rng: np.random.Generator, values: pd.Series | pd.Index | np.ndarray) -> str:
    values = np.asarray(values)
    return str(values[rng.integers(len(values))])


def _firms_of(frames: Frames, roles: tuple[str, ...]) -> pd.Series:
    firms = frames["firms"]
    return firms.loc[firms["role"].isin(roles), "firm_id"]


def _suppliers(frames: Frames) -> pd.Series:
    return _firms_of(frames, ("supplier", "both"))


def _buyers(frames: Frames) -> pd.Series:
    return _firms_of(frames, ("buyer", "both"))


def _leaves(frames: Frames) -> pd.Series:
    cats = frames["categories"]
    return cats.loc[~cats["category_id"].isin(cats["parent_id"]), "category_id"]


def new_link(frames: Frames, rng: np.random.Generator) -> None:
    links = frames["links"]
    linked = set(zip(links["supplier_id"], links["buyer_id"], strict=True))
    while True:
        s, b = _pick(rng, _suppliers(frames)), _pick(rng, _buyers(frames))
        if (s, b) not in linked:
            break
    row = links.iloc[[0]].copy()
    row[["supplier_id", "buyer_id", "category_id", "since", "status"]] = [
        s,
        b,
        _pick(rng, _leaves(frames)),
        2025,
        "active",
    ]
    frames["links"] = pd.concat([links, row], ignore_index=True)


def removed_link(frames: Frames, rng: np.random.Generator) -> None:
    links = frames["links"]
    frames["links"] = links.drop(index=links.index[rng.integers(len(links))])


def ended_link(frames: Frames, rng: np.random.Generator) -> None:
    links = frames["links"].copy()
    links.loc[links.index[rng.integers(len(links))], "status"] = "ended"
    frames["links"] = links


def new_demand(frames: Frames, rng: np.random.Generator) -> None:
    demands = frames["demands"]
    row = demands.iloc[[rng.integers(len(demands))]].copy()
    row["firm_id"] = _pick(rng, _buyers(frames))
    row["category_id"] = _pick(rng, _leaves(frames))
    merged = pd.concat([demands, row], ignore_index=True)
    frames["demands"] = merged.drop_duplicates(["firm_id", "category_id"], keep="first")


def changed_demand(frames: Frames, rng: np.random.Generator) -> None:
    demands = frames["demands"].copy()
    at = demands.index[rng.integers(len(demands))]
    demands.loc[at, "volume"] = int(rng.integers(10, 100_000))
    certs = frames["firms"]["certifications"].explode().dropna()
    demands.at[at, "required_certifications"] = (_pick(rng, certs),)
    frames["demands"] = demands


def new_certification(frames: Frames, rng: np.random.Generator) -> None:
    firms = frames["firms"].copy()
    certs = sorted(set(firms["certifications"].explode().dropna()))
    at = firms.index[firms["firm_id"] == _pick(rng, _suppliers(frames))][0]
    held = tuple(firms.at[at, "certifications"])
    firms.at[at, "certifications"] = tuple(sorted(set(held) | {_pick(rng, certs)}))
    frames["firms"] = firms


def new_capability(frames: Frames, rng: np.random.Generator) -> None:
    caps = frames["capabilities"]
    row = caps.iloc[[0]].copy()
    row["firm_id"] = _pick(rng, _suppliers(frames))
    row["category_id"] = _pick(rng, _leaves(frames))
    row["capacity"] = int(rng.integers(100, 100_000))
    merged = pd.concat([caps, row], ignore_index=True)
    frames["capabilities"] = merged.drop_duplicates(["firm_id", "category_id"], keep="first")


def listing_changed(frames: Frames, rng: np.random.Generator) -> None:
    firms = frames["firms"].copy()
    at = firms.index[firms["firm_id"] == _pick(rng, _suppliers(frames))][0]
    firms.at[at, "listed"] = not bool(firms.at[at, "listed"])
    frames["firms"] = firms


def new_outcome(frames: Frames, rng: np.random.Generator) -> None:
    outcomes = frames["outcomes"]
    row = outcomes.iloc[[0]].copy()
    row["supplier_id"] = _pick(rng, _suppliers(frames))
    row["buyer_id"] = _pick(rng, _buyers(frames))
    row["outcome"] = ["met", "declined", "contracted"][int(rng.integers(3))]
    frames["outcomes"] = pd.concat([outcomes, row], ignore_index=True)


def new_firm(frames: Frames, rng: np.random.Generator) -> None:
    """A supplier or a buyer copied from another (a new id, placed mid-file), with two links."""
    firms = frames["firms"]
    role = ("supplier", "buyer")[int(rng.integers(2))]
    pool = _suppliers(frames) if role == "supplier" else _buyers(frames)
    row = firms[firms["firm_id"] == _pick(rng, pool)].copy()
    row["firm_id"] = f"new-{role}-{int(rng.integers(10**6))}"
    row["name"] = f"New {role}"
    at = int(rng.integers(len(firms)))
    frames["firms"] = pd.concat([firms.iloc[:at], row, firms.iloc[at:]], ignore_index=True)
    links = frames["links"]
    other = _buyers(frames) if role == "supplier" else _suppliers(frames)
    new = links.iloc[[0, 1]].copy()
    new["supplier_id" if role == "supplier" else "buyer_id"] = row["firm_id"].iloc[0]
    new["buyer_id" if role == "supplier" else "supplier_id"] = [
        _pick(rng, other),
        _pick(rng, other),
    ]
    merged = pd.concat([links, new], ignore_index=True)
    frames["links"] = merged.drop_duplicates(["supplier_id", "buyer_id"], keep="first")


def firm_deleted(frames: Frames, rng: np.random.Generator) -> None:
    firms = frames["firms"]
    gone = _pick(rng, _suppliers(frames) if rng.random() < 0.6 else _buyers(frames))
    frames["firms"] = firms[firms["firm_id"] != gone]
    for name, columns in (
        ("links", ("supplier_id", "buyer_id")),
        ("outcomes", ("supplier_id", "buyer_id")),
        ("demands", ("firm_id",)),
        ("capabilities", ("firm_id",)),
    ):
        frame = frames[name]
        keep = np.ones(len(frame), dtype=bool)
        for column in columns:
            keep &= frame[column].to_numpy() != gone
        frames[name] = frame[keep]


CHANGES: dict[str, Callable[[Frames, np.random.Generator], None]] = {
    "new link": new_link,
    "removed link": removed_link,
    "ended link": ended_link,
    "new demand": new_demand,
    "changed demand": changed_demand,
    "new certification": new_certification,
    "new capability": new_capability,
    "listing changed": listing_changed,
    "new outcome": new_outcome,
    "new firm": new_firm,
    "firm deleted": firm_deleted,
}


def changed(dataset: graph.Dataset, kind: str, seed: int) -> graph.Dataset:
    frames = dataset.to_frames()
    CHANGES[kind](frames, np.random.default_rng(seed))
    return graph.Dataset.from_frames(**frames)


def assert_same(incremental: RankingState, full: RankingState) -> None:
    """Same lists (every column), same buyers, and the same memory for the next change."""
    pd.testing.assert_frame_equal(
        incremental.lists.reset_index(drop=True),
        full.lists.reset_index(drop=True),
        check_dtype=False,
    )
    np.testing.assert_array_equal(incremental.ranked, full.ranked)
    np.testing.assert_array_equal(incremental.fallback[full.ranked], full.fallback[full.ranked])
    np.testing.assert_array_equal(incremental.cut[full.ranked], full.cut[full.ranked])
    np.testing.assert_array_equal(incremental.counts[full.ranked], full.counts[full.ranked])
    for name in ("candidates", "neighbours", "demand_neighbours"):
        a, b = getattr(incremental, name), getattr(full, name)
        assert (a != b).nnz == 0, name


def cases(n: int) -> Iterator[tuple[str, int]]:
    for kind in CHANGES:
        for seed in range(n):
            yield kind, seed


# -- the equality ----------------------------------------------------------------------------
def test_the_frozen_model_on_the_fit_data_is_the_fitted_model(fitted: matcher.Matcher) -> None:
    state = full_rankings(fitted, k=10)
    listed = fitted.match_list(k=10)
    columns = ["buyer_id", "supplier_id", "category_id", "rank", "score", "reasons"]
    pd.testing.assert_frame_equal(
        state.lists[columns].reset_index(drop=True),
        listed[columns].reset_index(drop=True),
        check_dtype=False,
    )
    frozen = FrozenGlobals.from_matcher(fitted)
    index, _ = frozen.bind(fitted.dataset_)
    assert (index.supplier_text != fitted.index_.supplier_text).nnz == 0
    assert (index.category_text != fitted.index_.category_text).nnz == 0


@pytest.mark.parametrize(("kind", "seed"), list(cases(2)))
def test_incremental_equals_full(
    fitted: matcher.Matcher, start: RankingState, kind: str, seed: int
) -> None:
    after = changed(fitted.dataset_, kind, seed)
    incremental = rescore(start, after)
    assert_same(incremental, full_rankings(fitted, after, frozen=start.frozen, k=10))
    # What was kept is really the lists before (not a silent full rescoring).
    assert len(incremental.rescored) <= int(incremental.ranked.sum())


def test_changes_in_a_row(fitted: matcher.Matcher, start: RankingState) -> None:
    """Each state feeds the next: ten random changes of random kinds, checked at every step."""
    rng = np.random.default_rng(11)
    state, data = start, fitted.dataset_
    for step in range(10):
        kind = list(CHANGES)[int(rng.integers(len(CHANGES)))]
        data = changed(data, kind, 100 + step)
        state = rescore(state, data)
        assert_same(state, full_rankings(fitted, data, frozen=start.frozen, k=10))


def test_a_link_touches_few_buyers_when_neighbours_are_cut(
    fitted: matcher.Matcher, start: RankingState, neighbours: str
) -> None:
    """With neighbour lists cut (as on large networks) a new link leaves most lists alone."""
    if neighbours == "all neighbours":
        pytest.skip("every buyer that shares a supplier is a neighbour here")
    sizes = [
        len(affected_buyers(start, changed(fitted.dataset_, "new link", seed)))  # type: ignore[arg-type]
        for seed in range(5)
    ]
    assert max(sizes) < int(start.ranked.sum())


# -- a smaller set is wrong ------------------------------------------------------------------
def test_leaving_out_a_buyer_whose_list_changed_is_caught(
    fitted: matcher.Matcher, start: RankingState, neighbours: str
) -> None:
    """For each kind, drop from the affected set a buyer whose list really changed: the result
    then differs from the full rescoring (the equality test can fail)."""
    if neighbours == "all neighbours":
        pytest.skip("once is enough: with cut neighbour lists")
    caught = 0
    for kind, seed in cases(1):
        after = changed(fitted.dataset_, kind, seed)
        full = full_rankings(fitted, after, frozen=start.frozen, k=10)
        moved = _moved(start.lists, full.lists) & set(full.index.buyer_ids)  # not the deleted
        if not moved:
            continue
        affected = affected_buyers(start, after)
        assert moved <= affected, kind  # type: ignore[operator]
        shrunk = set(affected) - {sorted(moved)[0]}  # type: ignore[call-overload]
        with pytest.raises(AssertionError):
            assert_same(rescore(start, after, affected=shrunk), full)
        caught += 1
    assert caught >= len(CHANGES) // 2  # most kinds move some list


@pytest.mark.parametrize(
    ("rule", "kind"),
    [
        ("shared suppliers", "new link"),
        ("candidates", "new certification"),
        ("own rows", "changed demand"),
    ],
)
def test_each_rule_is_needed(
    fitted: matcher.Matcher, start: RankingState, neighbours: str, rule: str, kind: str
) -> None:
    """Without one rule's buyers the lists go wrong for some change of that kind."""
    if neighbours == "all neighbours":
        pytest.skip("once is enough: with cut neighbour lists")
    assert rule in RULES
    for seed in range(8):
        after = changed(fitted.dataset_, kind, seed)
        by_rule = affected_buyers(start, after, by_rule=True)
        assert isinstance(by_rule, dict)
        others = set().union(*(ids for name, ids in by_rule.items() if name != rule))
        full = full_rankings(fitted, after, frozen=start.frozen, k=10)
        try:
            assert_same(rescore(start, after, affected=others), full)
        except AssertionError:
            return
    pytest.fail(f"leaving out '{rule}' never changed a list in 8 '{kind}' changes")


def _moved(before: pd.DataFrame, after: pd.DataFrame) -> set[str]:
    """Buyers whose rows differ between two sets of lists."""
    columns = ["supplier_id", "rank", "score", "category_id"]
    moved = set()
    for buyer in set(before["buyer_id"]) | set(after["buyer_id"]):
        a = before.loc[before["buyer_id"] == buyer, columns].reset_index(drop=True)
        b = after.loc[after["buyer_id"] == buyer, columns].reset_index(drop=True)
        if not a.astype(str).equals(b.astype(str)):
            moved.add(buyer)
    return moved


def test_taxonomy_changes_need_a_retrain(fitted: matcher.Matcher, start: RankingState) -> None:
    frames = fitted.dataset_.to_frames()
    cats = frames["categories"].copy()
    cats.loc[cats.index[0], "name"] = "Renamed"
    frames["categories"] = cats
    with pytest.raises(ValueError, match="retrain"):
        rescore(start, graph.Dataset.from_frames(**frames))


def test_the_service_answers_from_the_rescored_lists(fitted: matcher.Matcher) -> None:
    """``served_matcher`` fills the answer cache from a rescored state (positions, demand rows
    laid out anew); its answers equal ranking each buyer live on the same frozen binding."""
    k = fitted.settings_.precompute_k
    before = full_rankings(fitted, k=k)
    # A buyer placed first (every buyer's position moves) and one new outcome.
    frames = fitted.dataset_.to_frames()
    firms = frames["firms"]
    newcomer = firms[firms["role"] == "buyer"].iloc[[0]].copy()
    newcomer["firm_id"] = "new-buyer"
    frames["firms"] = pd.concat([newcomer, firms], ignore_index=True)
    new_outcome(frames, np.random.default_rng(3))
    after = graph.Dataset.from_frames(**frames)
    state = rescore(before, after)
    assert 0 < len(state.rescored) < int(state.ranked.sum())
    served = served_matcher(state, after, after.fingerprint())
    live = frozen_matcher(fitted, state.frozen, after, after.fingerprint())
    buyers = state.index.buyer_ids.to_numpy()[state.ranked]
    assert set(served.rankings_) == set(np.flatnonzero(state.ranked))
    assert not live.rankings_
    for buyer in buyers:
        pd.testing.assert_frame_equal(
            served.recommend(str(buyer), k=10), live.recommend(str(buyer), k=10)
        )
