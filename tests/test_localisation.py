"""Localisation rates, gaps and near misses, with answers worked out by hand.

The world built below (categories: metal > stamp, screw; elec > pcb; plastic):

======  =====  ======  ============  ============  ==============================
firm    owner  listed  makes         certificates  processes
======  =====  ======  ============  ============  ==============================
F1      fdi    yes     pcb           IPC-A-610
L1      dom.   yes     stamp         ISO 9001      stamping
L2      jv     yes     stamp                       stamping
L3      dom.   no      screw         ISO 9001
L4      soe    yes     metal         ISO 9001      stamping
L5      dom.   yes     pcb
L6      dom.   yes     stamp         ISO 9001
L7      dom.   yes     plastic
======  =====  ======  ============  ============  ==============================

Demands (B1 is Japanese, electronics; B2 Korean, automotive):

==  =====  =======  ======  ======================  =====================================
d   buyer  wants    volume  requires                what fits, lacks, links
==  =====  =======  ======  ======================  =====================================
d0  B1     stamp    100     ISO 9001, stamping      L1 qualifies; L2 lacks ISO 9001, L6
                                                    stamping; linked L1, L2. L4 makes the
                                                    parent metal: no fit.
d1  B2     metal    300                             L1, L2, L4, L6 qualify; linked L6
                                                    (stamp is under metal); L4's link ended
d2  B1     screw    200                             nobody qualifies (L3 unlisted), but L3
                                                    is linked: covered, a gap
d3  B2     pcb      400     IPC-A-610               L5 lacks IPC-A-610; F1's link is fdi
d4  B1     pcb      --      ISO 9001                L5 lacks ISO 9001
d5  B2     elec     50      IPC-A-610, ISO 9001     L5 lacks both: no near miss
d6  B2     plastic  150                             L7 qualifies, no link
==  =====  =======  ======  ======================  =====================================

Covered: d0, d1, d2, d6. Linked: d0, d1, d2. If every near miss gained what it lacks, L5
gains IPC-A-610 and ISO 9001 and so qualifies for d5 as well: everything is covered.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from ketnoi.graph import LOCAL_OWNERSHIPS, SUPPLIER_ROLES, Dataset, category_ancestors, load_dataset
from ketnoi.programme import (
    LOCALISATION_GROUPS,
    demand_coverage,
    localisation,
    near_miss_targets,
    near_misses,
)

HANOI = Path(__file__).resolve().parents[1] / "fixtures" / "hanoi"


@pytest.fixture(scope="module")
def world() -> Dataset:
    categories = pd.DataFrame(
        {
            "category_id": ["metal", "stamp", "screw", "elec", "pcb", "plastic"],
            "name": ["Metal", "Stamped", "Screws", "Electronics", "PCB", "Plastic"],
            "parent_id": ["", "metal", "metal", "", "elec", ""],
        }
    )
    firms = pd.DataFrame(
        [
            ("B1", "buyer", "fdi", "JP", "electronics", True, "", ""),
            ("B2", "buyer", "fdi", "KR", "automotive", True, "", ""),
            ("F1", "supplier", "fdi", "JP", "electronics", True, "IPC-A-610", ""),
            ("L1", "supplier", "domestic", "VN", "metal", True, "ISO 9001", "stamping"),
            ("L2", "supplier", "jv", "VN", "metal", True, "", "stamping"),
            ("L3", "supplier", "domestic", "VN", "metal", False, "ISO 9001", ""),
            ("L4", "supplier", "soe", "VN", "metal", True, "ISO 9001", "stamping"),
            ("L5", "supplier", "domestic", "VN", "electronics", True, "", ""),
            ("L6", "supplier", "domestic", "VN", "metal", True, "ISO 9001", ""),
            ("L7", "supplier", "domestic", "VN", "plastics", True, "", ""),
        ],
        columns=[
            "firm_id",
            "role",
            "ownership",
            "country_of_origin",
            "sector",
            "listed",
            "certifications",
            "processes",
        ],
    ).assign(name=lambda f: "Firm " + f["firm_id"])
    capabilities = pd.DataFrame(
        {
            "firm_id": ["F1", "L1", "L2", "L3", "L4", "L5", "L6", "L7"],
            "category_id": ["pcb", "stamp", "stamp", "screw", "metal", "pcb", "stamp", "plastic"],
        }
    )
    demands = pd.DataFrame(
        [
            ("B1", "stamp", "100", "ISO 9001", "stamping"),
            ("B2", "metal", "300", "", ""),
            ("B1", "screw", "200", "", ""),
            ("B2", "pcb", "400", "IPC-A-610", ""),
            ("B1", "pcb", "", "ISO 9001", ""),
            ("B2", "elec", "50", "IPC-A-610;ISO 9001", ""),
            ("B2", "plastic", "150", "", ""),
        ],
        columns=[
            "firm_id",
            "category_id",
            "volume",
            "required_certifications",
            "required_processes",
        ],
    )
    links = pd.DataFrame(
        [
            ("L1", "B1", "stamp", "2020", "active"),
            ("L2", "B1", "stamp", "2021", "active"),
            ("L3", "B1", "screw", "2019", "active"),
            ("F1", "B2", "pcb", "2018", "active"),
            ("L4", "B2", "metal", "2017", "ended"),
            ("L6", "B2", "stamp", "2023", "active"),
            ("L1", "B2", "", "2022", "active"),
        ],
        columns=["supplier_id", "buyer_id", "category_id", "since", "status"],
    )
    return Dataset.from_frames(
        firms=firms,
        categories=categories,
        capabilities=capabilities,
        demands=demands,
        links=links,
    )


def _row(table: pd.DataFrame, column: str, value: str) -> pd.Series:
    rows = table[table[column] == value]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# -- the category tree ---------------------------------------------------------------------------
def test_category_ancestors_of_the_world(world: Dataset) -> None:
    pairs = category_ancestors(world.categories)
    up = pairs.groupby("category_id")["ancestor_id"].agg(list).to_dict()
    assert up == {
        "metal": ["metal"],
        "stamp": ["stamp", "metal"],
        "screw": ["screw", "metal"],
        "elec": ["elec"],
        "pcb": ["pcb", "elec"],
        "plastic": ["plastic"],
    }
    under = pairs.loc[pairs["ancestor_id"] == "metal", "category_id"]
    assert sorted(under) == ["metal", "screw", "stamp"]


# -- demand by demand ---------------------------------------------------------------------------
def test_demand_coverage_counts_by_hand(world: Dataset) -> None:
    table = demand_coverage(world)
    got = table[
        [
            "buyer_id",
            "category_id",
            "qualified_local_suppliers",
            "linked_local_suppliers",
            "near_miss_suppliers",
            "covered",
            "linked",
            "gap",
        ]
    ].values.tolist()
    assert got == [
        ["B1", "stamp", 1, 2, 2, True, True, False],
        ["B2", "metal", 4, 1, 0, True, True, False],
        ["B1", "screw", 0, 1, 0, True, True, True],
        ["B2", "pcb", 0, 0, 1, False, False, True],
        ["B1", "pcb", 0, 0, 1, False, False, True],
        ["B2", "elec", 0, 0, 0, False, False, True],
        ["B2", "plastic", 1, 0, 0, True, False, False],
    ]
    assert table["volume"].isna().tolist() == [False, False, False, False, True, False, False]
    assert table.loc[0, "buyer_name"] == "Firm B1"
    assert table.loc[1, "country_of_origin"] == "KR"


def test_a_firm_never_fits_its_own_demand() -> None:
    firms = pd.DataFrame(
        {
            "firm_id": ["T", "B"],
            "name": ["T", "B"],
            "role": ["both", "buyer"],
            "ownership": ["domestic", "fdi"],
        }
    )
    world = Dataset.from_frames(
        firms=firms,
        links=pd.DataFrame({"supplier_id": ["T"], "buyer_id": ["B"]}),
        capabilities=pd.DataFrame({"firm_id": ["T"], "category_id": ["screw"]}),
        demands=pd.DataFrame({"firm_id": ["T", "B"], "category_id": ["screw", "screw"]}),
    )
    table = demand_coverage(world)
    assert table["qualified_local_suppliers"].tolist() == [0, 1]


# -- grouped rates ------------------------------------------------------------------------------
def test_overall_rates_count_when_a_volume_is_missing(world: Dataset) -> None:
    row = localisation(world, by="all").iloc[0]
    # d4 has no volume, so the seven demands are counted one by one.
    assert row["weighting"] == "count"
    assert row["demands"] == 7 and row["demands_without_volume"] == 1
    assert row["volume"] == 1200.0  # the six known volumes
    assert row["demands_covered"] == 4 and row["volume_covered"] == 750.0
    assert row["localisation_rate"] == pytest.approx(4 / 7)
    assert row["demands_linked"] == 3 and row["volume_linked"] == 600.0
    assert row["linked_rate"] == pytest.approx(3 / 7)
    assert row["rate_if_near_misses_gained"] == pytest.approx(1.0)
    assert row["qualified_local_suppliers"] == 5  # L1, L2, L4, L6, L7
    assert row["linked_local_suppliers"] == 4  # L1, L2, L3, L6
    assert row["gap_demands"] == 4 and not row["gap"]


def test_by_origin_weights_each_group_on_its_own(world: Dataset) -> None:
    table = localisation(world, by="origin")
    assert table["country_of_origin"].tolist() == ["KR", "JP"]  # lowest rate first
    kr = _row(table, "country_of_origin", "KR")
    # d1 300, d3 400, d5 50, d6 150: every volume known.
    assert kr["weighting"] == "volume"
    assert kr["localisation_rate"] == pytest.approx(450 / 900)
    assert kr["linked_rate"] == pytest.approx(300 / 900)
    # d5 is covered only because L5 gains both items it is one short of elsewhere.
    assert kr["rate_if_near_misses_gained"] == pytest.approx(900 / 900)
    assert kr["qualified_local_suppliers"] == 5 and kr["linked_local_suppliers"] == 1
    assert kr["gap_demands"] == 2
    jp = _row(table, "country_of_origin", "JP")
    assert jp["weighting"] == "count"  # d4 has no volume
    assert jp["localisation_rate"] == pytest.approx(2 / 3)
    assert jp["linked_rate"] == pytest.approx(2 / 3)
    assert jp["rate_if_near_misses_gained"] == pytest.approx(1.0)
    assert jp["qualified_local_suppliers"] == 1 and jp["linked_local_suppliers"] == 3


def test_by_category_finds_the_gaps(world: Dataset) -> None:
    table = localisation(world, by="category")
    assert table["category_id"].tolist() == ["pcb", "elec", "metal", "screw", "plastic", "stamp"]
    assert table.set_index("category_id")["gap"].to_dict() == {
        "pcb": True,
        "elec": True,
        "metal": False,
        "screw": True,
        "plastic": False,
        "stamp": False,
    }
    pcb = _row(table, "category_id", "pcb")
    assert pcb["weighting"] == "count" and pcb["demands"] == 2
    assert pcb["localisation_rate"] == 0.0 and pcb["rate_if_near_misses_gained"] == 1.0
    assert pcb["gap_demands"] == 2 and pcb["category_name"] == "PCB"
    screw = _row(table, "category_id", "screw")
    assert screw["localisation_rate"] == 1.0 and screw["qualified_local_suppliers"] == 0
    metal = _row(table, "category_id", "metal")
    assert metal["qualified_local_suppliers"] == 4 and metal["linked_local_suppliers"] == 1
    plastic = _row(table, "category_id", "plastic")
    assert plastic["localisation_rate"] == 1.0 and plastic["linked_rate"] == 0.0


def test_by_buyer_and_by_sector_carry_their_keys(world: Dataset) -> None:
    buyers = localisation(world, by="buyer")
    assert list(buyers.columns[:4]) == ["buyer_id", "buyer_name", "country_of_origin", "sector"]
    assert buyers["buyer_id"].tolist() == ["B2", "B1"]
    sectors = localisation(world, by="sector")
    assert sectors.set_index("sector")["demands"].to_dict() == {"automotive": 4, "electronics": 3}
    for by, keys in LOCALISATION_GROUPS.items():
        table = localisation(world, by=by)
        assert list(table.columns[: len(keys)]) == list(keys)
        assert table["demands"].sum() == 7


def test_category_filter_takes_the_sub_tree(world: Dataset) -> None:
    metal = localisation(world, by="all", category="metal").iloc[0]
    assert metal["demands"] == 3 and metal["weighting"] == "volume"  # d0, d1, d2
    assert metal["localisation_rate"] == 1.0
    elec = localisation(world, by="all", category="elec").iloc[0]
    assert elec["demands"] == 3  # d3, d4, d5
    assert elec["localisation_rate"] == 0.0 and bool(elec["gap"])
    plastic = demand_coverage(world, category="plastic")
    assert plastic["category_id"].tolist() == ["plastic"]


def test_all_volumes_zero_falls_back_to_counting(world: Dataset) -> None:
    frames = {name: world.frame(name) for name in ("firms", "categories", "capabilities")}
    demands = world.demands.assign(volume=0.0)
    zero = Dataset.from_frames(**frames, demands=demands, links=world.links)
    row = localisation(zero, by="all").iloc[0]
    assert row["weighting"] == "count"
    assert row["localisation_rate"] == pytest.approx(4 / 7)


def test_bad_arguments_are_clear_errors(world: Dataset) -> None:
    with pytest.raises(ValueError, match="by must be one of"):
        localisation(world, by="park")
    with pytest.raises(KeyError, match="'steel' is not a category_id"):
        localisation(world, category="steel")
    with pytest.raises(KeyError, match="'steel'"):
        near_miss_targets(world, category="steel")


def test_no_demands_gives_empty_reports() -> None:
    firms = pd.DataFrame({"firm_id": ["S", "B"], "name": ["S", "B"], "role": ["supplier", "buyer"]})
    world = Dataset.from_frames(
        firms=firms, links=pd.DataFrame({"supplier_id": ["S"], "buyer_id": ["B"]})
    )
    assert localisation(world).empty
    row = localisation(world, by="all").iloc[0]
    assert row["demands"] == 0 and math.isnan(row["localisation_rate"])
    assert near_misses(world).empty and near_miss_targets(world).empty


# -- near misses --------------------------------------------------------------------------------
def test_near_misses_one_row_per_supplier_and_demand(world: Dataset) -> None:
    table = near_misses(world)
    got = table[["lacking_kind", "lacking", "supplier_id", "buyer_id", "category_id"]]
    assert got.values.tolist() == [
        ["certification", "IPC-A-610", "L5", "B2", "pcb"],
        ["certification", "ISO 9001", "L2", "B1", "stamp"],
        ["certification", "ISO 9001", "L5", "B1", "pcb"],
        ["process", "stamping", "L6", "B1", "stamp"],
    ]
    assert table["demand_covered"].tolist() == [False, True, False, True]
    assert table["supplier_name"].tolist()[0] == "Firm L5"


def test_near_miss_targets_and_what_if(world: Dataset) -> None:
    table = near_miss_targets(world)
    assert table["lacking"].tolist() == ["ISO 9001", "IPC-A-610", "stamping"]
    iso = _row(table, "lacking", "ISO 9001")
    assert iso["suppliers"] == 2 and iso["supplier_ids"] == ("L2", "L5")
    assert iso["demands"] == 2  # d0 and d4
    assert iso["volume"] == 100.0  # d4's volume is unknown
    assert iso["demands_newly_covered"] == 1  # d4; d0 is covered already
    assert iso["weighting"] == "count"
    assert iso["localisation_rate"] == pytest.approx(4 / 7)
    assert iso["rate_if_gained"] == pytest.approx(5 / 7)  # d5 still lacks IPC-A-610
    ipc = _row(table, "lacking", "IPC-A-610")
    assert (ipc["suppliers"], ipc["demands"], ipc["volume"]) == (1, 1, 400.0)
    assert ipc["rate_if_gained"] == pytest.approx(5 / 7)
    stamping = _row(table, "lacking", "stamping")
    assert stamping["lacking_kind"] == "process" and stamping["demands_newly_covered"] == 0
    assert stamping["rate_if_gained"] == pytest.approx(4 / 7)


def test_near_miss_targets_weigh_by_volume_where_known(world: Dataset) -> None:
    table = near_miss_targets(world, category="metal")  # d0, d1, d2: volumes 600 in all
    assert table["lacking"].tolist() == ["ISO 9001", "stamping"]
    assert set(table["weighting"]) == {"volume"}
    assert table["rate_if_gained"].tolist() == [1.0, 1.0]


# -- the demo world: the fast path against a plain per-pair reading -----------------------------
def test_qualified_counts_match_a_plain_loop_on_the_demo_world() -> None:
    hanoi = load_dataset(HANOI)
    table = demand_coverage(hanoi)
    firms = hanoi.firms.set_index("firm_id")
    pool = firms[
        firms["ownership"].isin(LOCAL_OWNERSHIPS)
        & firms["role"].isin(SUPPLIER_ROLES)
        & firms["listed"].astype(bool)
    ]
    parent = dict(zip(hanoi.categories["category_id"], hanoi.categories["parent_id"], strict=True))

    def under(category: str, ancestor: str) -> bool:
        while category:
            if category == ancestor:
                return True
            category = parent[category]
        return False

    makes: dict[str, set[str]] = {}
    for firm, category in hanoi.capabilities[["firm_id", "category_id"]].itertuples(index=False):
        makes.setdefault(firm, set()).add(category)
    for i in range(0, len(hanoi.demands), 12):
        demand = hanoi.demands.iloc[i]
        qualified = near = 0
        for firm, row in pool.iterrows():
            if firm == demand["firm_id"]:
                continue
            if not any(under(c, demand["category_id"]) for c in makes.get(firm, ())):
                continue
            lacking = len(set(demand["required_certifications"]) - set(row["certifications"]))
            lacking += len(set(demand["required_processes"]) - set(row["processes"]))
            qualified += lacking == 0
            near += lacking == 1
        assert table.loc[i, "qualified_local_suppliers"] == qualified, i
        assert table.loc[i, "near_miss_suppliers"] == near, i


def test_demo_world_rates_are_ordered() -> None:
    hanoi = load_dataset(HANOI)
    for by in LOCALISATION_GROUPS:
        table = localisation(hanoi, by=by)
        assert table["demands"].sum() == len(hanoi.demands)
        assert (table["linked_rate"] <= table["localisation_rate"] + 1e-12).all()
        assert (table["localisation_rate"] <= table["rate_if_near_misses_gained"] + 1e-12).all()
        assert table["localisation_rate"].between(0, 1).all()
