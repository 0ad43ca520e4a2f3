"""Programme indicators year by year, with answers worked out by hand.

The world: B1 is an FDI buyer. Local supporting-industry firms: A (domestic, founded 2018,
ISO 9001, unlisted, makes c), C (domestic, both, founded 2020, makes c), D (jv, both, no founded
year, holds only a non-international certificate) and G (domestic, founded 2000). E is an FDI
supplier, F a local buyer (neither counts).

Links: A->B1 2019, D->B1 (no year), C->D 2021, G->C 2021, E->B1 2019 (ended).
Demands: B1 wants c (100), D wants c (300); C is the only listed local maker of c.

==============================  ======  ======  ======
indicator                       2019    2020    2021
==============================  ======  ======  ======
local supporting firms          3       4       4       (A, D, G; then C)
certified share                 1/3     1/4     1/4     (A only)
tier 1 / tier 2 / tier 3+       2/0/0   2/0/0   2/1/1   (A, D; then C via D, G via C)
new links / with local sup.     2/1     0/0     2/2     (E's ended link counts in 2019)
localisation rate               0.25    1       1       (D's demand: C founded in 2020)
linked rate                     0.25    0.25    1       (C->D starts in 2021)
==============================  ======  ======  ======
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from pathlib import Path

import pandas as pd
import pytest

from ketnoi.graph import (
    INTERNATIONAL_CERTIFICATIONS,
    LOCAL_OWNERSHIPS,
    SUPPLIER_ROLES,
    Dataset,
    firm_tiers,
    load_dataset,
)
from ketnoi.programme import INDICATORS, ProgrammeTargets, localisation, programme_indicators

HANOI = Path(__file__).resolve().parents[1] / "fixtures" / "hanoi"


@pytest.fixture(scope="module")
def world() -> Dataset:
    firms = pd.DataFrame(
        [
            ("B1", "buyer", "fdi", "2005", "", True),
            ("A", "supplier", "domestic", "2018", "ISO 9001", False),
            ("C", "both", "domestic", "2020", "", True),
            ("D", "both", "jv", "", "XYZ", True),
            ("E", "supplier", "fdi", "2015", "ISO 9001", True),
            ("F", "buyer", "domestic", "2010", "ISO 9001", True),
            ("G", "supplier", "domestic", "2000", "", True),
        ],
        columns=["firm_id", "role", "ownership", "founded", "certifications", "listed"],
    ).assign(name=lambda f: f["firm_id"])
    links = pd.DataFrame(
        [
            ("A", "B1", "c", "2019", "active"),
            ("D", "B1", "c", "", "active"),
            ("C", "D", "c", "2021", "active"),
            ("G", "C", "c", "2021", "active"),
            ("E", "B1", "c", "2019", "ended"),
        ],
        columns=["supplier_id", "buyer_id", "category_id", "since", "status"],
    )
    capabilities = pd.DataFrame({"firm_id": ["A", "C"], "category_id": ["c", "c"]})
    demands = pd.DataFrame(
        {"firm_id": ["B1", "D"], "category_id": ["c", "c"], "volume": [100, 300]}
    )
    return Dataset.from_frames(firms=firms, links=links, capabilities=capabilities, demands=demands)


def _values(table: pd.DataFrame) -> pd.DataFrame:
    observed = table[table["basis"] == "observed"]
    return observed.pivot(index="indicator", columns="year", values="value")


def test_observed_values_by_hand(world: Dataset) -> None:
    values = _values(programme_indicators(world))
    assert list(values.columns) == [2019, 2020, 2021]
    expected = {
        "local_supporting_firms": [3, 4, 4],
        "certified_share": [1 / 3, 1 / 4, 1 / 4],
        "tier_1_firms": [2, 2, 2],
        "tier_2_firms": [0, 0, 1],
        "tier_3plus_firms": [0, 0, 1],
        "new_links": [2, 0, 2],
        "new_local_links": [1, 0, 2],
        "localisation_rate": [0.25, 1.0, 1.0],
        "linked_rate": [0.25, 0.25, 1.0],
    }
    assert set(expected) == set(INDICATORS)
    for name, row in expected.items():
        assert values.loc[name].tolist() == pytest.approx(row), name


def test_rows_are_ordered_by_year_then_indicator(world: Dataset) -> None:
    table = programme_indicators(world)
    observed = table[table["basis"] == "observed"]
    assert observed["indicator"].tolist() == list(INDICATORS) * 3
    assert observed["year"].tolist() == [y for y in (2019, 2020, 2021) for _ in INDICATORS]
    assert list(table.columns) == ["year", "indicator", "basis", "value", "target", "on_track"]


def test_the_last_year_agrees_with_the_current_reports(world: Dataset) -> None:
    values = _values(programme_indicators(world))
    now = localisation(world, by="all").iloc[0]
    assert values.loc["localisation_rate", 2021] == pytest.approx(now["localisation_rate"])
    assert values.loc["linked_rate", 2021] == pytest.approx(now["linked_rate"])


def test_custom_targets_and_on_track(world: Dataset) -> None:
    targets = ProgrammeTargets(
        local_supporting_firms={2020: 4, 2021: 5, 2023: 6}, certified_share={2021: 0.25}
    )
    table = programme_indicators(world, targets)
    with_target = table[table["target"].notna()]
    got = with_target[["year", "indicator", "basis", "value", "target", "on_track"]]
    assert got.values.tolist() == [
        [2020, "local_supporting_firms", "observed", 4.0, 4.0, True],
        [2021, "local_supporting_firms", "observed", 4.0, 5.0, False],
        [2021, "certified_share", "observed", 0.25, 0.25, True],
        # 3 firms in 2019, 4 in 2021: half a firm a year, so 5 by 2023, short of 6.
        [2023, "local_supporting_firms", "projected", 5.0, 6.0, False],
    ]
    assert table.loc[table["target"].isna(), "on_track"].isna().all()
    assert len(table) == 3 * len(INDICATORS) + 1


def test_default_targets_are_the_programme(world: Dataset) -> None:
    targets = ProgrammeTargets()
    assert dict(targets.local_supporting_firms) == {2026: 1000, 2030: 1200}
    assert dict(targets.certified_share) == {2030: 0.40}
    with pytest.raises(FrozenInstanceError):
        targets.new_links = {2030: 1}  # type: ignore[misc]
    projected = programme_indicators(world)
    projected = projected[projected["basis"] == "projected"]
    assert projected[["year", "indicator", "value", "target"]].values.tolist() == [
        [2026, "local_supporting_firms", 6.5, 1000.0],
        [2030, "local_supporting_firms", 8.5, 1200.0],
        # Falling a twenty-fourth a year from 1/4 in 2021: below zero by 2030, so held at 0.
        [2030, "certified_share", 0.0, 0.4],
    ]
    assert not projected["on_track"].any()


def test_start_and_end(world: Dataset) -> None:
    table = programme_indicators(world, start=2020, end=2020)
    observed = table[table["basis"] == "observed"]
    assert set(observed["year"]) == {2020}
    projected = table[table["basis"] == "projected"].set_index(["year", "indicator"])
    # One year of history gives no pace: the value is carried forward unchanged.
    assert projected.loc[(2030, "local_supporting_firms"), "value"] == 4.0
    # A target year inside the window is observed, not projected.
    inside = programme_indicators(world, start=2019, end=2026)
    row = inside[(inside["year"] == 2026) & (inside["indicator"] == "local_supporting_firms")]
    assert row["basis"].tolist() == ["observed"] and row["on_track"].tolist() == [False]
    with pytest.raises(ValueError, match="after end"):
        programme_indicators(world, start=2022, end=2021)


def test_demo_world_last_year_matches_a_direct_count() -> None:
    hanoi = load_dataset(HANOI)
    table = programme_indicators(hanoi)
    last = int(table.loc[table["basis"] == "observed", "year"].max())
    assert last == 2025
    values = _values(table)[last]
    firms = hanoi.firms
    local = firms[firms["ownership"].isin(LOCAL_OWNERSHIPS) & firms["role"].isin(SUPPLIER_ROLES)]
    assert values["local_supporting_firms"] == len(local)
    certified = local["certifications"].map(lambda c: bool(set(c) & INTERNATIONAL_CERTIFICATIONS))
    assert values["certified_share"] == pytest.approx(certified.mean())
    assert values["new_links"] == (hanoi.links["since"] == last).sum()
    tiers = firm_tiers(hanoi).reindex(local["firm_id"])
    assert values["tier_1_firms"] == (tiers == 1).sum()
    assert values["tier_2_firms"] == (tiers == 2).sum()


def test_targets_from_a_file(tmp_path: Path) -> None:
    toml = tmp_path / "targets.toml"
    toml.write_text("[targets.tier_1_firms]\n2030 = 300\n[targets.certified_share]\n2030 = 0.5\n")
    targets = ProgrammeTargets.from_file(toml)
    assert targets.tier_1_firms == {2030: 300.0}
    assert targets.certified_share == {2030: 0.5}
    assert targets.local_supporting_firms == {2026: 1000, 2030: 1200}  # kept
    for text, message in [
        ('{"tier_9_firms": {"2030": 1}}', "unknown indicator(s): tier_9_firms"),
        ('{"tier_1_firms": {"soon": 1}}', "tier_1_firms: year 'soon' is not a whole number"),
        ('{"tier_1_firms": {"2030": "many"}}', "tier_1_firms.2030: 'many' is not a number"),
        ("{not json", "not valid json"),
    ]:
        path = tmp_path / "bad.json"
        path.write_text(text)
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            ProgrammeTargets.from_file(path)
