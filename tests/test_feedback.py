"""The feedback loop: outcomes as training labels without leakage, the outcome-free control, and
the conversion report against hand-counted answers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ketnoi import graph, matcher, programme
from ketnoi.matcher._index import FirmIndex
from ketnoi.matcher._training import outcome_labels, training_set

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny() -> graph.Dataset:
    return graph.load_dataset(ROOT / "fixtures" / "tiny")


def _pair_rows(index: FirmIndex, train: object, buyer: str, supplier: str) -> np.ndarray:
    pairs = train.pairs  # type: ignore[attr-defined]
    b, s = index.buyer_ids.get_loc(buyer), index.supplier_ids.get_loc(supplier)
    return np.flatnonzero((pairs[:, 0] == b) & (pairs[:, 1] == s))


# -- outcomes as labels -----------------------------------------------------------------------


def test_outcome_labels_by_hand(tiny: graph.Dataset) -> None:
    """tiny: S1 met B1 (2024-05-10), S5 declined B1 (2024-05-10)."""
    index = FirmIndex.from_dataset(tiny)
    positives, negatives = outcome_labels(index, tiny.outcomes)
    b1 = index.buyer_ids.get_loc("B1")
    assert positives[["buyer", "supplier", "year"]].values.tolist() == [
        [b1, index.supplier_ids.get_loc("S1"), 2024.0]
    ]
    assert negatives[["buyer", "supplier", "year"]].values.tolist() == [
        [b1, index.supplier_ids.get_loc("S5"), 2024.0]
    ]


def test_the_last_outcome_decides_and_the_first_positive_dates_it(
    tiny: graph.Dataset,
) -> None:
    index = FirmIndex.from_dataset(tiny)
    outcomes = pd.DataFrame(
        {
            "supplier_id": ["S4", "S4", "S4", "S3", "S3"],
            "buyer_id": ["B1", "B1", "B1", "B1", "B1"],
            "outcome": ["declined", "contracted", "met", "contacted", "negotiating"],
            "date": ["2021-01-01", "2023-02-01", "2022-06-30", "2020-01-01", ""],
            "event_id": ["", "", "", "", ""],
            "reason": ["", "", "", "", ""],
        }
    )
    positives, negatives = outcome_labels(index, outcomes)
    assert positives["year"].tolist() == [2022.0]
    assert positives["supplier"].tolist() == [index.supplier_ids.get_loc("S4")]
    # Contacted and negotiating decide nothing; S4 contracted last, so its earlier refusal
    # is no label.
    assert negatives.empty
    # Met, then declined (the same day: the order recorded decides): a negative.
    later = pd.concat(
        [
            outcomes,
            pd.DataFrame(
                {
                    "supplier_id": ["S1", "S1"],
                    "buyer_id": ["B2", "B2"],
                    "outcome": ["met", "declined"],
                    "date": ["2024-05-01", "2024-05-01"],
                    "event_id": ["", ""],
                    "reason": ["", "price"],
                }
            ),
        ],
        ignore_index=True,
    )
    positives, negatives = outcome_labels(index, later)
    assert len(positives) == 1
    assert negatives[["buyer", "supplier", "year"]].values.tolist() == [
        [index.buyer_ids.get_loc("B2"), index.supplier_ids.get_loc("S1"), 2024.0]
    ]


@pytest.mark.parametrize("training", ["temporal", "folds"])
def test_outcome_labels_join_training_without_leaking_their_own_outcome(
    tiny: graph.Dataset, training: str
) -> None:
    index = FirmIndex.from_dataset(tiny)
    on = training_set(index, tiny, matcher.MatcherSettings(training=training))
    off = training_set(
        index, tiny, matcher.MatcherSettings(training=training, outcome_labels=False)
    )
    assert on.n_positives == off.n_positives + 1 == 7
    rows = _pair_rows(index, on, "B1", "S1")
    # Once a positive (it may also be a sampled negative of an earlier period, as any pair
    # not yet linked then).
    met = rows[on.labels[rows] == 1]
    assert len(met) == 1
    # The pair's own "met" never reaches its features: not in its snapshot, nor its fold's.
    assert on.features["outcome_good"].iloc[met].tolist() == [0.0]
    # A labelled pair appears once, as its label: never a sampled negative elsewhere.
    refused = _pair_rows(index, on, "B1", "S5")
    assert on.labels[refused].tolist() == [0.0]
    assert on.features["outcome_declined"].iloc[refused].tolist() == [0.0]
    # Without outcome labels, S1 -> B1 is never a positive.
    assert (off.labels[_pair_rows(index, off, "B1", "S1")] == 0).all()


def test_the_outcome_free_control_fits_as_if_nothing_was_recorded(tiny: graph.Dataset) -> None:
    methods = matcher.evaluation_methods(outcomes=True)
    assert {"model", "model_without_outcomes"} <= set(methods)
    control = methods["model_without_outcomes"](0)
    assert isinstance(control, matcher.WithoutOutcomes)
    control.fit(tiny)
    inner = control.ranker
    assert inner.dataset_.outcomes.empty  # type: ignore[attr-defined]
    assert inner.snapshot_.outcome_good.nnz == 0  # type: ignore[attr-defined]
    assert inner.snapshot_.outcome_declined.nnz == 0  # type: ignore[attr-defined]
    with_outcomes = matcher.Matcher().fit(tiny)
    assert with_outcomes.snapshot_.outcome_good.nnz == 1
    scores = control.score_buyers(["B1"])
    assert scores.shape == (1, len(control.supplier_ids_))
    assert "model_without_outcomes" not in matcher.evaluation_methods()


# -- the conversion report --------------------------------------------------------------------


def _outcomes(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["supplier_id", "buyer_id", "outcome", "date", "event_id"])
    return frame.assign(reason="")


OUTCOMES = _outcomes(
    [
        # event A (starts 2024-03-01): four pairs
        ("S1", "B1", "contacted", "2024-03-01", "A"),
        ("S1", "B1", "met", "2024-03-01", "A"),
        ("S1", "B1", "contracted", "2024-06-01", "A"),  # reached contracted
        ("S2", "B1", "met", "2024-03-01", "A"),
        ("S2", "B1", "declined", "2024-04-01", "A"),  # met, then declined
        ("S3", "B2", "negotiating", "2024-03-02", "A"),  # reached negotiating
        ("S4", "B2", "contacted", "2024-03-02", "A"),
        # event B (starts 2025-05-05): two pairs
        ("S1", "B2", "met", "2025-05-05", "B"),
        ("S1", "B2", "contracted", "2025-09-09", "B"),
        ("S5", "B1", "declined", "2025-05-05", "B"),  # only declined: no stage
        # no event
        ("S4", "B1", "contracted", "2023-01-10", ""),
    ]
)


def test_pair_progress_by_hand() -> None:
    progress = pair_frame = programme.pair_progress(OUTCOMES)
    got = {
        (r.event_id, r.buyer_id, r.supplier_id): (r.stage, r.declined)
        for r in pair_frame.itertuples()
    }
    assert got == {
        ("A", "B1", "S1"): ("contracted", False),
        ("A", "B1", "S2"): ("met", True),
        ("A", "B2", "S3"): ("negotiating", False),
        ("A", "B2", "S4"): ("contacted", False),
        ("B", "B2", "S1"): ("contracted", False),
        ("B", "B1", "S5"): ("", True),
        ("(no event)", "B1", "S4"): ("contracted", False),
    }
    starts = progress.set_index("event_id")["event_start"].dt.strftime("%Y-%m-%d").to_dict()
    assert starts == {"A": "2024-03-01", "B": "2025-05-05", "(no event)": "2023-01-10"}


def test_conversion_report_without_rankings_counts_the_funnel() -> None:
    report = programme.conversion_report(OUTCOMES).set_index("event_id")
    assert list(report.index) == ["(no event)", "A", "B", "all"]
    a = report.loc["A"]
    assert (a["pairs"], a["contacted"], a["met"], a["negotiating"], a["contracted"]) == (
        4,
        4,
        3,
        2,
        1,
    )
    assert a["declined"] == 1
    b = report.loc["B"]
    assert (b["pairs"], b["contacted"], b["met"], b["contracted"], b["declined"]) == (2, 1, 1, 1, 1)
    total = report.loc["all"]
    assert (total["pairs"], total["met"], total["contracted"]) == (7, 5, 3)
    assert total["recommended"] == 0 and total["contracts_from_top_k"] == 0
    assert total["share_of_contracts_from_top_k"] == 0.0


def test_conversion_report_counts_contracts_from_the_top_k() -> None:
    rankings = pd.DataFrame(
        {
            "buyer_id": ["B1", "B1", "B2", "B2", "B1"],
            "supplier_id": ["S1", "S2", "S3", "S1", "S4"],
            "rank": [3, 12, 1, 10, 2],
        }
    )
    report = programme.conversion_report(OUTCOMES, rankings, k=10).set_index("event_id")
    a = report.loc["A"]
    # S1->B1 (rank 3, contracted) and S3->B2 (rank 1, negotiating) are in the top 10;
    # S2->B1 is ranked 12, S4->B2 not at all.
    assert (a["ranked"], a["recommended"]) == (3, 2)
    # A pair that reached a stage counts in every earlier one: negotiating implies met.
    assert (a["recommended_met"], a["recommended_negotiating"]) == (2, 2)
    assert a["contracts_from_top_k"] == 1
    assert a["contract_rate_recommended"] == 0.5
    assert a["contract_rate_other"] == 0.0
    total = report.loc["all"]
    # Contracts: S1->B1 (A, rank 3), S1->B2 (B, rank 10), S4->B1 (no event, rank 2).
    assert total["contracts_from_top_k"] == 3
    assert total["share_of_contracts_from_top_k"] == 1.0
    tighter = programme.conversion_report(OUTCOMES, rankings, k=5).set_index("event_id")
    assert tighter.loc["all", "contracts_from_top_k"] == 2
    assert tighter.loc["all", "share_of_contracts_from_top_k"] == pytest.approx(2 / 3)


def test_a_ranking_made_after_the_first_outcome_does_not_count() -> None:
    rankings = pd.DataFrame(
        {
            "buyer_id": ["B1", "B2"],
            "supplier_id": ["S1", "S1"],
            "rank": [1, 1],
            "as_of": ["2024-01-01T00:00:00Z", "2025-06-01T00:00:00Z"],
        }
    )
    report = programme.conversion_report(OUTCOMES, rankings).set_index("event_id")
    assert report.loc["A", "contracts_from_top_k"] == 1  # ranked before event A
    assert report.loc["B", "contracts_from_top_k"] == 0  # ranked after S1 met B2
    assert report.loc["B", "ranked"] == 0


def test_scheduled_meetings_are_counted_when_made_before() -> None:
    meetings = pd.DataFrame(
        {
            "buyer_id": ["B1", "B2", "B1"],
            "supplier_id": ["S1", "S1", "S3"],
            "as_of": ["2024-02-01T09:00:00Z", "2025-06-01T09:00:00Z", "2024-02-01T09:00:00Z"],
        }
    )
    report = programme.conversion_report(OUTCOMES, meetings=meetings).set_index("event_id")
    # S1 -> B1 was scheduled before event A and contracted; S1 -> B2 only after it met at B;
    # S3 -> B1 never had an outcome.
    assert (report.loc["A", "scheduled"], report.loc["A", "scheduled_contracted"]) == (1, 1)
    assert report.loc["B", "scheduled"] == 0
    assert report.loc["all", "scheduled_met"] == 1
    assert report.loc["all", "recommended"] == 0  # meetings are not rankings


def test_event_rankings_only_count_for_their_event() -> None:
    rankings = pd.DataFrame(
        {"event_id": ["B"], "buyer_id": ["B1"], "supplier_id": ["S1"], "rank": [1]}
    )
    report = programme.conversion_report(OUTCOMES, rankings).set_index("event_id")
    assert report.loc["all", "recommended"] == 0  # S1->B1 met at A, not at B


def test_bad_k_is_refused() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        programme.conversion_report(OUTCOMES, k=0)


def test_empty_outcomes_give_an_all_row_of_zeros() -> None:
    report = programme.conversion_report(OUTCOMES.iloc[:0])
    assert report["event_id"].tolist() == ["all"]
    assert report.loc[0, "pairs"] == 0


def test_backtest_ranks_without_hindsight(tiny: graph.Dataset) -> None:
    later = pd.DataFrame(
        {
            "supplier_id": ["S3"],
            "buyer_id": ["B1"],
            "category_id": ["screw"],
            "since": [2024],
            "status": ["active"],
        }
    )
    links = pd.concat([tiny.links, later], ignore_index=True).astype(tiny.links.dtypes.to_dict())
    dataset = dataclasses.replace(tiny, links=links)
    rankings = programme.backtest_rankings(dataset, k=10)
    # tiny's outcomes are all from 2024, at buyer B1: one fit on the data before 2024.
    assert set(rankings["cutoff"]) == {2024}
    assert set(rankings["buyer_id"]) == {"B1"}
    suppliers = set(rankings["supplier_id"])
    assert {"T1", "S2"}.isdisjoint(suppliers)  # linked to B1 before 2024
    assert "S3" in suppliers  # linked only in 2024: the backtest did not see it
    assert rankings["rank"].tolist() == list(range(1, len(rankings) + 1))
    report = programme.conversion_report(dataset.outcomes, rankings, k=10)
    assert report.iloc[-1]["ranked"] == 2  # S1 and S5 were both candidates for B1


def test_synthetic_outcomes_foreshadow_next_year_links_and_leave_the_rest_alone() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "ketnoi_make_synthetic", ROOT / "fixtures" / "make_synthetic.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plain = module.make_world(300, 40, 1500, seed=3)
    world = module.make_world(300, 40, 1500, seed=3, outcomes=True)
    assert all(world[name].equals(plain[name]) for name in plain)
    dataset = graph.Dataset.from_frames(source="synthetic", **world)  # valid per the contract
    outcomes, links = dataset.outcomes, dataset.links
    first = links.groupby(["buyer_id", "supplier_id"])["since"].min()
    good = outcomes[outcomes["outcome"].isin(["contracted", "negotiating"])]
    # Every contract or negotiation at the event of year y is a pair that links in y + 1 ...
    years = good["date"].str[:4].astype(int).to_numpy()
    linked = first.reindex(pd.MultiIndex.from_frame(good[["buyer_id", "supplier_id"]]))
    assert (linked.to_numpy() == years + 1).all()
    # ... and every refusal a pair that never links.
    refused = outcomes[outcomes["outcome"] == "declined"]
    pairs = pd.MultiIndex.from_frame(refused[["buyer_id", "supplier_id"]])
    assert not pairs.isin(first.index).any()
