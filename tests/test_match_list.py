"""The match list as a library function: the cap, pins, blocks and the declined filter worked out
on fixtures/tiny, the spec as data, and invariants that hold for any spec."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from ketnoi import graph, matcher
from ketnoi.matcher import MatchListSpec, build_match_list

ROOT = Path(__file__).resolve().parents[1]
BUYERS = ("B1", "B2", "T1")
SUPPLIERS = ("S1", "S2", "S3", "S5", "T1")


@pytest.fixture(scope="module")
def fitted() -> matcher.Matcher:
    return matcher.Matcher().fit(graph.load_dataset(ROOT / "fixtures" / "tiny"))


def pairs(rows: pd.DataFrame, side: str = "buyer") -> list[tuple[str, str]]:
    mine = rows[rows["side"] == side]
    return list(zip(mine["buyer_id"], mine["supplier_id"], strict=True))


# -- the plain list is the plain top-k --------------------------------------------------------
def test_a_plain_spec_is_the_matchers_top_k(fitted: matcher.Matcher) -> None:
    plain = fitted.match_list(None, 3)
    rows = build_match_list(fitted, MatchListSpec(k=3), declined=())
    assert list(rows.columns) == matcher.MATCH_LIST_COLUMNS
    assert list(rows.columns[:7]) == matcher.RECOMMENDATION_COLUMNS
    same = ["buyer_id", "supplier_id", "category_id", "tier", "rank", "score", "supplier_park"]
    pd.testing.assert_frame_equal(rows[same], plain[same], check_dtype=False)
    assert list(rows["reasons"]) == list(plain["reasons"])
    assert not rows["pinned"].any() and set(rows["side"]) == {"buyer"}


def test_every_buyer_is_the_same_list_as_naming_them(fitted: matcher.Matcher) -> None:
    # None ranks every buyer in one batch; naming them asks the matcher one buyer at a time.
    every = build_match_list(fitted, MatchListSpec(k=3, max_per_supplier=1, pins=[("B2", "S1")]))
    named = build_match_list(
        fitted, MatchListSpec(buyer_ids=BUYERS, k=3, max_per_supplier=1, pins=[("B2", "S1")])
    )
    pd.testing.assert_frame_equal(every, named)


# -- the rules, worked out by hand on the tiny dataset ----------------------------------------
def test_declined_pairs_are_left_out_by_default(fitted: matcher.Matcher) -> None:
    # The tiny dataset's outcomes decline (B1, S5); B1 ranks S1, S3, then S5.
    assert matcher.declined_pairs(fitted.dataset_) == {("B1", "S5")}
    spec = MatchListSpec(buyer_ids=["B1"], supplier_ids=["S5"], k=10)
    dropped = build_match_list(fitted, spec)
    kept = build_match_list(fitted, spec, declined=())
    assert ("B1", "S5") not in pairs(dropped) + pairs(dropped, "supplier")
    assert pairs(kept) == [("B1", "S1"), ("B1", "S3"), ("B1", "S5")]
    assert pairs(kept, "supplier") == [("B2", "S5"), ("B1", "S5")]
    assert pairs(dropped, "supplier") == [("B2", "S5")]


def test_the_cap_takes_places_in_rank_order(fitted: matcher.Matcher) -> None:
    free = build_match_list(fitted, MatchListSpec(buyer_ids=BUYERS, k=3, pins=[("B2", "S1")]))
    capped = build_match_list(
        fitted, MatchListSpec(buyer_ids=BUYERS, k=3, pins=[("B2", "S1")], max_per_supplier=1)
    )
    assert Counter(s for _, s in pairs(free))["S1"] == 2  # the cap has work to do
    assert max(Counter(s for _, s in pairs(capped)).values()) == 1
    # The pin holds its place against the cap; B1 loses S1 although S1 is its first choice.
    assert ("B2", "S1") in pairs(capped) and ("B1", "S1") not in pairs(capped)
    assert set(pairs(capped)) < set(pairs(free))


def test_pins_come_first_and_blocks_never(fitted: matcher.Matcher) -> None:
    spec = MatchListSpec(
        buyer_ids=["B1", "B2"], supplier_ids=["S3"], k=2, pins=[("B1", "S2")], blocks=[("B1", "S3")]
    )
    rows = build_match_list(fitted, spec)
    b1 = rows[(rows["side"] == "buyer") & (rows["buyer_id"] == "B1")]
    # S2 already supplies B1, so only a pin puts it on the list; it counts towards k.
    assert list(b1["supplier_id"]) == ["S2", "S1"] and list(b1["pinned"]) == [True, False]
    assert list(b1["rank"]) == [1, 2]
    assert b1.iloc[0]["supplier_name"] and b1.iloc[0]["reasons"]
    assert 0 <= b1.iloc[0]["score"] <= 1
    assert ("B1", "S3") not in pairs(rows) + pairs(rows, "supplier")


def test_a_pin_goes_on_the_suppliers_list_when_its_buyer_has_none(
    fitted: matcher.Matcher,
) -> None:
    rows = build_match_list(
        fitted, MatchListSpec(buyer_ids=(), supplier_ids=["S3"], k=1, pins=[("B2", "S3")])
    )
    assert pairs(rows, "supplier") == [("B2", "S3")] and rows["pinned"].all()
    assert pairs(rows) == []


def test_hidden_firms_stay_off_unless_pinned(fitted: matcher.Matcher) -> None:
    spec = MatchListSpec(buyer_ids=["B1", "B2"], k=5, pins=[("B2", "T1")])
    rows = build_match_list(fitted, spec, hidden={"S1", "T1"})
    assert "S1" not in set(rows["supplier_id"])
    assert pairs(rows[rows["pinned"]]) == [("B2", "T1")]


def test_unknown_firms_and_bad_specs_are_refused(fitted: matcher.Matcher) -> None:
    with pytest.raises(KeyError, match="NOPE"):
        build_match_list(fitted, MatchListSpec(buyer_ids=["NOPE"]))
    with pytest.raises(KeyError, match="S1"):
        build_match_list(fitted, MatchListSpec(buyer_ids=["S1"]))
    with pytest.raises(ValueError, match="buyer_ids or supplier_ids"):
        build_match_list(fitted, MatchListSpec(buyer_ids=()))
    with pytest.raises(ValueError, match="both pinned and blocked"):
        MatchListSpec(pins=[("B1", "S2")], blocks=[("B1", "S2")]).check()
    with pytest.raises(ValueError, match="pinned pair"):
        MatchListSpec(buyer_ids=["B1"], pins=[("B2", "S2")]).check()
    with pytest.raises(ValueError, match="max_per_supplier"):
        MatchListSpec(max_per_supplier=0).check()
    with pytest.raises(NotFittedError, match="fit"):
        build_match_list(matcher.Matcher(), MatchListSpec())


# -- the spec is data -------------------------------------------------------------------------
def test_the_spec_round_trips_through_its_params() -> None:
    spec = MatchListSpec(
        buyer_ids=["B1", "B1", "B2"], k=4, max_per_supplier=2, pins=[["B1", "S2"]], lang="vi"
    )
    assert spec.buyer_ids == ("B1", "B2") and spec.pins == (("B1", "S2"),)
    assert MatchListSpec.from_params(spec.params()) == spec
    assert MatchListSpec.from_params(MatchListSpec().params()).buyer_ids is None
    blocked = spec.with_pairs("blocks", add=[("B1", "S2")])
    assert blocked.pins == () and blocked.blocks == (("B1", "S2"),)
    assert blocked.with_pairs("pins", add=[("B1", "S2")]).blocks == ()


# -- invariants -------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(1, 4),
    cap=st.one_of(st.none(), st.integers(1, 2)),
    pins=st.sets(
        st.sampled_from([(b, s) for b in BUYERS for s in SUPPLIERS if b != s]), max_size=2
    ),
    blocks=st.sets(st.sampled_from([(b, s) for b in BUYERS for s in SUPPLIERS]), max_size=3),
)
def test_invariants(
    fitted: matcher.Matcher,
    k: int,
    cap: int | None,
    pins: set[tuple[str, str]],
    blocks: set[tuple[str, str]],
) -> None:
    blocks = blocks - pins
    spec = MatchListSpec(
        buyer_ids=BUYERS, k=k, max_per_supplier=cap, pins=sorted(pins), blocks=sorted(blocks)
    )
    rows = build_match_list(fitted, spec)
    listed = set(pairs(rows))
    assert pins <= listed  # a pinned pair always appears ...
    assert not (blocks & listed)  # ... a blocked one never
    assert not ({("B1", "S5")} - pins) & listed  # declined
    for _, ranks in rows.groupby("buyer_id")["rank"]:
        assert list(ranks) == list(range(1, len(ranks) + 1))
    per_buyer = Counter(rows["buyer_id"])
    assert all(n <= max(k, sum(p[0] == b for p in pins)) for b, n in per_buyer.items())
    if cap is not None:
        unpinned = Counter(rows.loc[~rows["pinned"], "supplier_id"])
        pinned = Counter(rows.loc[rows["pinned"], "supplier_id"])
        assert all(n <= max(0, cap - pinned[s]) for s, n in unpinned.items())
    assert rows["score"].between(0, 1).all()
