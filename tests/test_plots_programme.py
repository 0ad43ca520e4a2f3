"""Programme and event pictures (programme/_plot_programme.py, programme/_plot_events.py) and the
computations behind notebooks 03-05 (programme/_event_participants.py).

Figures are checked by what they hold (axes, bars, points, labels), never by pixels; the
values are small enough to work out by hand, or are held against the report they draw.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")  # before anything else touches matplotlib: tests never open windows

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ketnoi import (
    graph,  # noqa: E402
    matcher,  # noqa: E402
    programme,  # noqa: E402
)
from ketnoi.programme import EventSchedule, EventSpec, Participant  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "fixtures" / "tiny"
HANOI = ROOT / "fixtures" / "hanoi"


def widths(container) -> list[float]:
    return [round(float(p.get_width()), 6) for p in container]


def ticks(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


@pytest.fixture(scope="module")
def hanoi() -> graph.Dataset:
    return graph.load_dataset(HANOI)


@pytest.fixture(scope="module")
def hanoi_matcher(hanoi: graph.Dataset) -> matcher.Matcher:
    return matcher.Matcher().fit(hanoi)


# -- the optional dependency and the examples -------------------------------------------------
@pytest.mark.parametrize(
    "draw",
    [
        lambda: programme.plot_sole_suppliers(
            pd.DataFrame(
                {
                    "supplier_id": ["s"],
                    "supplier_name": ["S"],
                    "supplier_local": [True],
                    "sole_source_pairs": [1],
                }
            )
        ),
        lambda: programme.plot_programme_indicators(
            pd.DataFrame(
                {
                    "year": [2025],
                    "indicator": ["new_links"],
                    "basis": ["observed"],
                    "value": [1.0],
                    "target": [np.nan],
                }
            )
        ),
        lambda: programme.plot_schedule_comparison({}),
    ],
    ids=["graph", "graph-grid", "matcher"],
)
def test_a_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch, draw) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=re.escape('pip install "ketnoi[notebooks]"')):
        draw()


# -- localisation -----------------------------------------------------------------------------
def rates_table(**extra) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sector": ["cars", "shoes", "food"],
            "weighting": ["volume", "volume", "volume"],
            "linked_rate": [0.25, 0.5, 0.9],
            "localisation_rate": [0.5, 0.75, 1.0],
            "rate_if_near_misses_gained": [0.625, 1.0, 1.0],
            **extra,
        }
    )


def test_plot_localisation_puts_the_linked_rate_beside_the_localisation_rate() -> None:
    fig = programme.plot_localisation(rates_table())
    ax = fig.axes[0]
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    assert len(ax.containers) == 2 and len(ax.patches) == 6
    assert widths(ax.containers[0]) == [0.25, 0.5, 0.9]  # linked
    assert widths(ax.containers[1]) == [0.5, 0.75, 1.0]  # linked or qualified
    # Each group's two bars sit side by side around its tick, the linked one above.
    linked, either = ax.containers[0][0], ax.containers[1][0]
    assert linked.get_y() + linked.get_height() == pytest.approx(either.get_y())
    assert linked.get_y() == pytest.approx(-0.4)
    assert ticks(ax) == ["cars", "shoes", "food"]
    assert ax.yaxis_inverted()  # the first (lowest) group at the top
    assert ax.get_title() == "Localisation rate by sector"
    assert ax.get_xlabel() == "share of demand volume"
    assert ax.get_xlim() == (0.0, 1.0)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["linked today", "linked or qualified"]


def test_plot_localisation_what_if_top_and_count_weighting() -> None:
    table = rates_table()
    table["weighting"] = "count"
    ax = programme.plot_localisation(table, what_if=True, top=2, title="T").axes[0]
    assert len(ax.containers) == 3
    assert widths(ax.containers[2]) == [0.625, 1.0]
    assert ticks(ax) == ["cars", "shoes"]
    assert ax.get_title() == "T" and ax.get_xlabel() == "share of demands"


def test_plot_localisation_labels_each_grouping(hanoi: graph.Dataset) -> None:
    by_origin = programme.localisation(hanoi, by="origin")
    ax = programme.plot_localisation(by_origin).axes[0]
    assert ticks(ax) == list(by_origin["country_of_origin"])
    assert widths(ax.containers[1]) == [round(v, 6) for v in by_origin["localisation_rate"]]
    assert ax.get_title() == "Localisation rate by buyer's country of origin"

    by_buyer = programme.localisation(hanoi, by="buyer")
    ax = programme.plot_localisation(by_buyer, top=5).axes[0]
    assert [t.split()[0] for t in ticks(ax)] == list(by_buyer["buyer_id"].head(5))
    assert ax.get_title() == "Localisation rate by buyer"

    by_category = programme.localisation(hanoi, by="category")
    ax = programme.plot_localisation(by_category, top=3).axes[0]
    assert ticks(ax) == list(by_category["category_name"].head(3))

    ax = programme.plot_localisation(programme.localisation(hanoi, by="all")).axes[0]
    assert ticks(ax) == ["all demands"]


def test_plot_localisation_on_given_axes() -> None:
    fig = Figure()
    ax = fig.subplots()
    assert programme.plot_localisation(rates_table(), ax=ax) is fig


# -- near misses ------------------------------------------------------------------------------
def targets_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lacking_kind": ["certification", "process", "certification"],
            "lacking": ["IATF 16949", "stamping", "ISO 9001"],
            "suppliers": [4, 2, 7],
            "demands_newly_covered": [3, 1, 0],
            "localisation_rate": [0.80, 0.80, 0.80],
            "rate_if_gained": [0.85, 0.82, 0.80],
        }
    )


def test_plot_near_miss_gains_bars_are_percentage_points() -> None:
    ax = programme.plot_near_miss_gains(targets_table()).axes[0]
    assert widths(ax.patches) == [5.0, 2.0, 0.0]
    # Mixed kinds: the kind is in the label.
    assert ticks(ax) == [
        "IATF 16949 (certification)",
        "stamping (process)",
        "ISO 9001 (certification)",
    ]
    notes = [t.get_text() for t in ax.texts]
    assert notes == [
        "85.0%, 4 suppliers, +3 demands",
        "82.0%, 2 suppliers, +1 demands",
        "80.0%, 7 suppliers, +0 demands",
    ]
    assert ax.get_title() == "If near-miss suppliers gained what they lack (today 80.0%)"


def test_plot_near_miss_gains_one_kind_and_top() -> None:
    ax = programme.plot_near_miss_gains(targets_table(), kind="certification", top=1).axes[0]
    assert widths(ax.patches) == [5.0]
    assert ticks(ax) == ["IATF 16949"]
    assert ax.get_title().startswith("If near-miss suppliers gained the certification they lack")


def test_plot_near_miss_gains_without_near_misses() -> None:
    ax = programme.plot_near_miss_gains(targets_table(), kind="nothing").axes[0]
    assert not ax.patches
    assert [t.get_text() for t in ax.texts] == ["no near-miss suppliers"]


def test_plot_near_miss_gains_matches_the_report(hanoi: graph.Dataset) -> None:
    targets = programme.near_miss_targets(hanoi)
    ax = programme.plot_near_miss_gains(targets, top=5).axes[0]
    expected = (targets["rate_if_gained"] - targets["localisation_rate"]).head(5) * 100
    assert widths(ax.patches) == [round(v, 6) for v in expected]


# -- concentration ----------------------------------------------------------------------------
def concentration_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category_id": ["a", "b", "c", "d"],
            "category_name": ["A", "B", None, "D"],
            "links": [1, 4, 6, 9],
            "suppliers": [1, 2, 3, 9],
            "hhi": [1.0, 0.625, 0.5, 1 / 9],
            "single_sourced_buyers": [1, 2, 1, 0],
        }
    )


def test_plot_concentration_leaves_out_thin_categories() -> None:
    ax = programme.plot_concentration(concentration_table(), min_links=4, top=2).axes[0]
    assert widths(ax.patches) == [0.625, 0.5]
    assert ticks(ax) == ["B", "c"]  # a missing name falls back to the id
    assert [t.get_text() for t in ax.texts] == [
        "4 links, 2 suppliers, single-sourced buyers: 2",
        "6 links, 3 suppliers, single-sourced buyers: 1",
    ]
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [0.25, 0.25]
    assert ax.get_title() == "Most concentrated categories, 4+ links"


def test_plot_concentration_defaults_keep_every_category() -> None:
    ax = programme.plot_concentration(concentration_table()).axes[0]
    assert len(ax.patches) == 4 and ax.get_title() == "Most concentrated categories"


def test_plot_sole_suppliers_splits_local_and_foreign(hanoi: graph.Dataset) -> None:
    table = pd.DataFrame(
        {
            "supplier_id": ["f1", "s1", "s2"],
            "supplier_name": ["Foreign", "Local one", "Local two"],
            "supplier_local": [False, True, True],
            "sole_source_pairs": [5, 3, 1],
        }
    )
    ax = programme.plot_sole_suppliers(table, top=2).axes[0]
    local, foreign = ax.containers
    assert widths(local) == [3.0] and widths(foreign) == [5.0]
    # Bars keep the table's order whatever their colour: f1 at 0 (the top), s1 at 1.
    assert foreign[0].get_y() < local[0].get_y()
    assert ticks(ax) == ["f1 Foreign", "s1 Local one"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["local", "foreign-invested"]

    sole = programme.sole_suppliers(hanoi)
    ax = programme.plot_sole_suppliers(sole).axes[0]
    assert len(ax.patches) == 15
    assert max(p.get_width() for p in ax.patches) == sole["sole_source_pairs"].max()


# -- programme indicators ---------------------------------------------------------------------
def indicator_rows() -> pd.DataFrame:
    rows = [
        (2024, "local_supporting_firms", "observed", 900.0, np.nan),
        (2025, "local_supporting_firms", "observed", 950.0, np.nan),
        (2026, "local_supporting_firms", "projected", 1000.0, 1000.0),
        (2030, "local_supporting_firms", "projected", 1200.0, 1200.0),
        (2024, "certified_share", "observed", 0.30, np.nan),
        (2025, "certified_share", "observed", 0.35, np.nan),
        (2030, "certified_share", "projected", 0.60, 0.40),
        (2024, "tier_1_firms", "observed", 10.0, np.nan),
        (2025, "tier_1_firms", "observed", 12.0, np.nan),
        (2024, "tier_2_firms", "observed", 1.0, np.nan),
        (2025, "tier_2_firms", "observed", 2.0, np.nan),
    ]
    return pd.DataFrame(rows, columns=["year", "indicator", "basis", "value", "target"])


def test_plot_programme_indicators_draws_observed_projected_and_targets() -> None:
    fig = programme.plot_programme_indicators(indicator_rows())
    # Three of the five default panels have indicators in the table.
    assert len(fig.axes) == 3
    firms, share, tiers = fig.axes
    assert firms.get_title() == "Local supporting-industry firms"
    observed, projected, target = firms.get_lines()
    assert list(observed.get_xdata()) == [2024, 2025]
    assert list(observed.get_ydata()) == [900.0, 950.0]
    assert observed.get_linestyle() == "-"
    # The projection starts at the last observed year, dashed, with hollow dots.
    assert list(projected.get_xdata()) == [2025, 2026, 2030]
    assert list(projected.get_ydata()) == [950.0, 1000.0, 1200.0]
    assert projected.get_linestyle() == "--" and projected.get_markerfacecolor() == "white"
    assert list(target.get_xdata()) == [2026, 2030]
    assert list(target.get_ydata()) == [1000.0, 1200.0]
    assert target.get_marker() == "D" and target.get_linestyle() == "None"
    assert [t.get_text() for t in firms.texts] == ["1,000", "1,200"]
    assert [t.get_text() for t in firms.get_legend().get_texts()] == [
        "local supporting-industry firms",
        "projected",
        "target",
    ]
    # Shares read in percent, targets too.
    assert [t.get_text() for t in share.texts] == ["40%"]
    assert share.yaxis.get_major_formatter().__class__.__name__ == "PercentFormatter"
    # A share's axis runs from zero to at least 100%, so 40% to 42% reads as the small rise
    # it is (issue 14).
    assert share.get_ylim()[0] == 0 and share.get_ylim()[1] >= 1
    # Several indicators in one panel: one observed line each, no targets.
    assert [len(line.get_xdata()) for line in tiers.get_lines()] == [2, 2]
    assert [t.get_text() for t in tiers.get_legend().get_texts()] == ["tier 1", "tier 2"]
    assert fig.get_suptitle() == "Programme indicators against targets (hollow dots: projected)"


def test_plot_programme_indicators_custom_panels_and_nothing_to_draw() -> None:
    fig = programme.plot_programme_indicators(
        indicator_rows(), panels={"Tier 2": ["tier_2_firms"], "None here": ["new_links"]}
    )
    assert [ax.get_title() for ax in fig.axes] == ["Tier 2"]
    with pytest.raises(ValueError, match="none of the panels"):
        programme.plot_programme_indicators(indicator_rows(), panels={"x": ["new_links"]})


def test_plot_programme_indicators_on_the_demo_world(hanoi: graph.Dataset) -> None:
    table = programme.programme_indicators(
        hanoi, programme.ProgrammeTargets(tier_1_firms={2030: 900})
    )
    fig = programme.plot_programme_indicators(table)
    assert len(fig.axes) == 5
    firms = fig.axes[0]
    seen = table[(table["indicator"] == "local_supporting_firms") & (table["basis"] == "observed")]
    assert list(firms.get_lines()[0].get_ydata()) == list(seen["value"])
    tier_targets = [line for line in fig.axes[2].get_lines() if line.get_marker() == "D"]
    assert [list(line.get_ydata()) for line in tier_targets] == [[900.0]]


# -- events: participants ---------------------------------------------------------------------
def tiny_copy_with(tmp_path: Path, foreign: tuple[str, ...] = ()) -> graph.Dataset:
    """tiny with the S2 -> B2 stamping link removed, so that both FDI buyers have open demand
    (B1 screws, volume 500,000; B2 stamped parts, 8,000), and ``foreign`` suppliers made
    foreign-invested."""
    folder = tmp_path / "tiny"
    shutil.copytree(TINY, folder)
    links = (folder / "links.csv").read_text(encoding="utf-8").splitlines()
    kept = [line for line in links if not line.startswith("S2,B2,")]
    (folder / "links.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    firms = (folder / "firms.csv").read_text(encoding="utf-8").splitlines()
    firms = [
        line.replace(",domestic,VN,", ",fdi,KR,") if line.split(",")[0] in foreign else line
        for line in firms
    ]
    (folder / "firms.csv").write_text("\n".join(firms) + "\n", encoding="utf-8")
    return graph.load_dataset(folder)


@pytest.fixture
def open_tiny(tmp_path: Path) -> graph.Dataset:
    return tiny_copy_with(tmp_path)


def stub_matcher(dataset: graph.Dataset, scores: dict[str, list[float]]) -> SimpleNamespace:
    """What suggest_event_participants reads of a matcher, with scores set by hand."""
    suppliers = ["T1", "S1", "S2", "S3", "S4", "S5"]
    return SimpleNamespace(
        dataset_=dataset,
        index_=SimpleNamespace(buyer_ids=list(scores)),
        supplier_ids_=pd.Index(suppliers),
        score_buyers=lambda buyers: np.array([scores[b] for b in buyers], dtype=float),
    )


#           T1    S1    S2    S3    S4    S5
SCORES = {
    "B1": [0.9, 0.8, 0.7, 0.6, -1.0, 0.95],
    "B2": [0.5, 0.8, -1.0, 0.7, 0.3, 0.4],
}


def test_suggest_event_participants_by_hand(open_tiny: graph.Dataset) -> None:
    # B1 may meet S1 (0.8) and S3 (0.6): T1 and S2 supply it, S5 declined it, S4 is no candidate.
    # B2 may meet S1 (0.8), T1 (0.5), S5 (0.4; its link to B2 ended) and S4 (0.3): S3 supplies
    # it, S2 is no candidate. Turns: B1 takes S1; B2 passes S1 over and takes T1; B1 takes S3;
    # B2 takes S5; B1 has no one left; B2 takes S4.
    m = stub_matcher(open_tiny, SCORES)
    out = programme.suggest_event_participants(m, buyers=5, suppliers=10)  # type: ignore[arg-type]
    assert list(out.columns) == [
        "firm_id",
        "firm_name",
        "side",
        "open_demands",
        "open_volume",
        "chosen_for",
        "rank",
        "score",
    ]
    assert list(out["firm_id"]) == ["B1", "B2", "S1", "T1", "S3", "S5", "S4"]
    assert list(out["side"]) == ["buyer"] * 2 + ["supplier"] * 5
    assert list(out["open_demands"].head(2)) == [1, 1]
    assert list(out["open_volume"].head(2)) == [500000.0, 8000.0]  # B1 first: more volume
    assert list(out["chosen_for"]) == ["", "", "B1", "B2", "B1", "B2", "B2"]
    assert list(out["rank"].iloc[2:]) == [1, 2, 2, 3, 4]
    assert list(out["score"].iloc[2:]) == [0.8, 0.5, 0.6, 0.4, 0.3]
    assert out["rank"].head(2).isna().all() and out["open_demands"].iloc[2:].isna().all()
    assert out.loc[0, "firm_name"] == "Công ty TNHH Hoshino Việt Nam"


def test_suggest_event_participants_limits_and_unknown_buyers(open_tiny: graph.Dataset) -> None:
    m = stub_matcher(open_tiny, SCORES)
    out = programme.suggest_event_participants(m, buyers=1, suppliers=1)  # type: ignore[arg-type]
    assert list(out["firm_id"]) == ["B1", "S1"]
    out = programme.suggest_event_participants(m, buyers=5, suppliers=3)  # type: ignore[arg-type]
    assert list(out["firm_id"]) == ["B1", "B2", "S1", "T1", "S3"]
    # A buyer the matcher does not know cannot be scored: left out.
    only_b2 = stub_matcher(open_tiny, {"B2": SCORES["B2"]})
    out = programme.suggest_event_participants(only_b2, buyers=5)  # type: ignore[arg-type]
    assert list(out["firm_id"]) == ["B2", "S1", "T1", "S5", "S4"]
    assert list(out["rank"].iloc[1:]) == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="at least one"):
        programme.suggest_event_participants(m, buyers=0)  # type: ignore[arg-type]


def test_suggest_event_participants_breaks_ties_by_id(open_tiny: graph.Dataset) -> None:
    m = stub_matcher(open_tiny, {"B2": [0.5, 0.5, -1.0, 0.5, 0.5, 0.5]})
    out = programme.suggest_event_participants(m)  # type: ignore[arg-type]
    assert list(out["firm_id"]) == ["B2", "S1", "S4", "S5", "T1"]


def test_suggest_event_participants_local_only(tmp_path: Path) -> None:
    # With S1 foreign-invested, B1 is left with S3 and B2 takes T1 first.
    dataset = tiny_copy_with(tmp_path, foreign=("S1",))
    m = stub_matcher(dataset, SCORES)
    local = programme.suggest_event_participants(m)  # type: ignore[arg-type]
    assert list(local["firm_id"]) == ["B1", "B2", "S3", "T1", "S5", "S4"]
    anyone = programme.suggest_event_participants(m, local_only=False)  # type: ignore[arg-type]
    assert list(anyone["firm_id"]) == ["B1", "B2", "S1", "T1", "S3", "S5", "S4"]


def test_participants_from_frame() -> None:
    frame = pd.DataFrame({"firm_id": ["B1", "S1"], "side": ["buyer", "supplier"]})
    assert programme.participants_from_frame(frame) == (
        Participant("B1", "buyer"),
        Participant("S1", "supplier"),
    )
    with pytest.raises(KeyError, match="side"):
        programme.participants_from_frame(frame[["firm_id"]])


def test_the_demo_event_is_drafted_as_the_notebook_says(
    hanoi: graph.Dataset, hanoi_matcher: matcher.Matcher
) -> None:
    out = programme.suggest_event_participants(hanoi_matcher)
    again = programme.suggest_event_participants(hanoi_matcher)
    pd.testing.assert_frame_equal(out, again)  # deterministic
    buyers = out[out["side"] == "buyer"]
    suppliers = out[out["side"] == "supplier"]
    assert len(buyers) == 20 and len(suppliers) == 80
    assert out["firm_id"].is_unique
    # Buyers: FDI, with open demand, the most open demands first.
    fdi = set(graph.fdi_buyer_ids(hanoi))
    assert set(buyers["firm_id"]) <= fdi
    assert (buyers["open_demands"] >= 1).all()
    assert buyers["open_demands"].is_monotonic_decreasing
    coverage = programme.demand_coverage(hanoi)
    open_count = coverage[~coverage["linked"]].groupby("buyer_id").size()
    assert list(buyers["open_demands"]) == list(open_count[buyers["firm_id"]])
    # Suppliers: local, new to the buyer they were chosen for, candidates of it.
    ownership = hanoi.firms.set_index("firm_id")["ownership"]
    assert ownership[suppliers["firm_id"]].isin(graph.LOCAL_OWNERSHIPS).all()
    active = hanoi.active_links
    linked = set(zip(active["buyer_id"], active["supplier_id"], strict=True))
    invited = set(zip(suppliers["chosen_for"], suppliers["firm_id"], strict=True))
    assert not invited & linked
    assert (suppliers["score"] >= 0).all()
    assert set(suppliers["chosen_for"]) <= set(buyers["firm_id"])


# -- events: schedules and pictures -----------------------------------------------------------
def hand_schedule(method: str = "decomposition") -> EventSchedule:
    """Two buyers, three suppliers, 2 slots, 2 tables; S3 has no meeting."""
    spec = EventSpec(
        (
            Participant("B1", "buyer"),
            Participant("B2", "buyer"),
            Participant("S1", "supplier"),
            Participant("S2", "supplier"),
            Participant("S3", "supplier"),
        ),
        slots=2,
        tables=2,
        max_meetings=2,
        slot_labels=("09:00", "09:30"),
    )
    meetings = pd.DataFrame(
        {
            "slot": [1, 1, 2],
            "table": [1, 2, 1],
            "buyer_id": ["B1", "B2", "B1"],
            "supplier_id": ["S1", "S2", "S2"],
            "score": [0.5, 0.25, 0.75],
            "interpreter": [False, True, False],
        }
    )
    names = {"B1": "Buyer one", "B2": "Buyer two", "S1": "A", "S2": "B", "S3": "C"}
    return EventSchedule(spec, meetings, "optimal", method, 3, 2, 1.5, names=names)


def test_meetings_per_firm_counts_everyone() -> None:
    table = programme.meetings_per_firm(hand_schedule())
    assert list(table["firm_id"]) == ["B1", "B2", "S1", "S2", "S3"]
    assert list(table["meetings"]) == [2, 1, 1, 2, 0]
    assert list(table["score"]) == [1.25, 0.25, 0.5, 1.0, 0.0]
    assert list(table["firm_name"]) == ["Buyer one", "Buyer two", "A", "B", "C"]


def test_compare_schedules_by_hand() -> None:
    best = hand_schedule()
    worse = EventSchedule(best.spec, best.meetings.head(1), "heuristic", "greedy", 3, 1, 0.5)
    table = programme.compare_schedules({"optimal": best, "greedy": worse})
    assert list(table.index) == ["optimal", "greedy"]
    assert list(table["meetings"]) == [3, 1]
    assert list(table["covered"]) == [2, 1]
    assert list(table["coverage"]) == pytest.approx([2 / 3, 1 / 3])
    assert list(table["score"]) == [1.5, 0.5]
    assert list(table["mean_score"]) == [0.5, 0.5]
    assert list(table["method"]) == ["decomposition", "greedy"]


def test_plot_schedule_grid_places_each_meeting() -> None:
    fig = programme.plot_schedule_grid(hand_schedule())
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # the grid and its colour bar
    grid = ax.images[0].get_array()
    assert grid.shape == (2, 2)
    assert grid.filled(-1).tolist() == [[0.5, 0.25], [0.75, -1.0]]  # slot 2, table 2 empty
    assert sorted(t.get_text() for t in ax.texts) == ["B1\nS1", "B1\nS2", "B2\nS2 *"]
    assert ticks(ax) == ["09:00", "09:30"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2"]
    assert ax.get_title() == (
        "3 meetings in 2 slots at 2 tables, 1 with an interpreter (*) (decomposition)"
    )
    assert fig.axes[1].get_ylabel() == "match score"


def test_plot_meetings_per_firm_is_a_histogram_per_side() -> None:
    ax = programme.plot_meetings_per_firm(hand_schedule()).axes[0]
    buyers, suppliers = ax.containers
    # Meetings 0, 1, 2: buyers B2 has 1, B1 has 2; suppliers S3 0, S1 1, S2 2.
    assert [p.get_height() for p in buyers] == [0, 1, 1]
    assert [p.get_height() for p in suppliers] == [1, 1, 1]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["buyers (2)", "suppliers (3)"]
    assert ax.get_title() == "Meetings per firm: 2 of 3 suppliers meet a buyer (decomposition)"


def test_plot_schedule_comparison_shows_score_and_coverage() -> None:
    best = hand_schedule()
    worse = EventSchedule(best.spec, best.meetings.head(1), "heuristic", "greedy", 3, 1, 0.5)
    fig = programme.plot_schedule_comparison({"first come": worse, "optimiser": best})
    assert len(fig.axes) == 2
    score, cover = fig.axes
    assert [p.get_height() for p in score.patches] == [0.5, 1.5]
    assert [p.get_height() for p in cover.patches] == [1.0, 2.0]
    assert [t.get_text() for t in score.get_xticklabels()] == ["first come", "optimiser"]
    assert [t.get_text() for t in score.texts] == ["0.5", "1.5 (+200%)"]
    assert [t.get_text() for t in cover.texts][:2] == ["1", "2 (+100%)"]
    (everyone,) = cover.get_lines()
    assert list(everyone.get_ydata()) == [3.0, 3.0]  # every supplier taking part


def test_event_pictures_on_the_demo_world(
    hanoi: graph.Dataset, hanoi_matcher: matcher.Matcher
) -> None:
    invited = programme.suggest_event_participants(hanoi_matcher, buyers=5, suppliers=15)
    spec = EventSpec(programme.participants_from_frame(invited), slots=4, tables=5, max_meetings=4)
    optimal = programme.schedule_event(spec, hanoi_matcher)
    greedy = programme.schedule_event(spec, hanoi_matcher, method="greedy")
    table = programme.compare_schedules({"greedy": greedy, "optimal": optimal})
    # The optimiser never covers fewer suppliers than the first-come desk.
    assert table.loc["optimal", "covered"] >= table.loc["greedy", "covered"]
    grid = programme.plot_schedule_grid(optimal).axes[0]
    held = grid.images[0].get_array()
    assert int(held.count()) == len(optimal.meetings)
    assert float(held.sum()) == pytest.approx(optimal.meetings["score"].sum())
    per_firm = programme.plot_meetings_per_firm(optimal).axes[0]
    assert sum(p.get_height() for p in per_firm.containers[1]) == 15
