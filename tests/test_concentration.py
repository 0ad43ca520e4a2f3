"""Single sourcing, sole suppliers and the concentration index, worked out by hand.

Active links by category (S1 domestic, S2 fdi, S3 jv):

- c1: S1->B1, S2->B1, S1->B2, S1->B3. S1 holds 3 of 4 links, S2 1: HHI = 0.75**2 + 0.25**2
  = 0.625. B2 and B3 have S1 alone; B1 has two suppliers.
- c2: S2->B2, S3->B3 (S3->B1 has ended): HHI = 0.5. B2 has S2 alone, B3 has S3 alone.
- S2->B3 has no category and counts nowhere.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ketnoi.graph import Dataset, load_dataset
from ketnoi.programme import category_concentration, single_sourced, sole_suppliers

HANOI = Path(__file__).resolve().parents[1] / "fixtures" / "hanoi"


@pytest.fixture(scope="module")
def world() -> Dataset:
    firms = pd.DataFrame(
        {
            "firm_id": ["S1", "S2", "S3", "B1", "B2", "B3"],
            "name": ["Supplier 1", "Supplier 2", "Supplier 3", "Buyer 1", "Buyer 2", "Buyer 3"],
            "role": ["supplier", "supplier", "supplier", "buyer", "buyer", "buyer"],
            "ownership": ["domestic", "fdi", "jv", "fdi", "fdi", "fdi"],
        }
    )
    links = pd.DataFrame(
        [
            ("S1", "B1", "c1", "2019", "active"),
            ("S2", "B1", "c1", "2018", "active"),
            ("S1", "B2", "c1", "2020", "active"),
            ("S1", "B3", "c1", "", "active"),
            ("S2", "B2", "c2", "2021", "active"),
            ("S3", "B3", "c2", "2022", "active"),
            ("S3", "B1", "c2", "2016", "ended"),
            ("S2", "B3", "", "2023", "active"),
        ],
        columns=["supplier_id", "buyer_id", "category_id", "since", "status"],
    )
    categories = pd.DataFrame({"category_id": ["c1", "c2"], "name": ["Cat 1", "Cat 2"]})
    return Dataset.from_frames(firms=firms, links=links, categories=categories)


def test_single_sourced_pairs(world: Dataset) -> None:
    table = single_sourced(world)
    got = table[["buyer_id", "category_id", "supplier_id", "supplier_local"]].values.tolist()
    assert got == [
        ["B2", "c1", "S1", True],
        ["B2", "c2", "S2", False],
        ["B3", "c1", "S1", True],
        ["B3", "c2", "S3", True],
    ]
    assert table["since"].tolist()[:2] == [2020, 2021]
    assert pd.isna(table["since"].iloc[2])
    assert table["buyer_name"].iloc[0] == "Buyer 2" and table["category_name"].iloc[0] == "Cat 1"


def test_sole_suppliers(world: Dataset) -> None:
    table = sole_suppliers(world)
    assert table[
        ["supplier_id", "sole_source_pairs", "buyers", "categories", "active_links"]
    ].values.tolist() == [
        ["S1", 2, 2, 1, 3],
        ["S2", 1, 1, 1, 2],  # the uncategorised link to B3 is left out
        ["S3", 1, 1, 1, 1],  # the ended link to B1 is left out
    ]
    assert table["supplier_local"].tolist() == [True, False, True]


def test_category_concentration(world: Dataset) -> None:
    table = category_concentration(world).set_index("category_id")
    assert list(table.index) == ["c1", "c2"]  # the most concentrated first
    c1, c2 = table.loc["c1"], table.loc["c2"]
    assert (c1["links"], c1["suppliers"], c1["buyers"]) == (4, 2, 3)
    assert c1["hhi"] == pytest.approx(0.625)
    assert c1["top_supplier_id"] == "S1" and c1["top_share"] == pytest.approx(0.75)
    assert c1["local_share"] == pytest.approx(0.75)
    assert c1["single_sourced_buyers"] == 2
    assert (c2["links"], c2["suppliers"], c2["buyers"]) == (2, 2, 2)
    assert c2["hhi"] == pytest.approx(0.5)
    # A tie for the top goes to the smaller id.
    assert c2["top_supplier_id"] == "S2" and c2["top_share"] == pytest.approx(0.5)
    assert c2["local_share"] == pytest.approx(0.5)
    assert c2["single_sourced_buyers"] == 2
    assert c1["category_name"] == "Cat 1"


def test_no_categorised_links_gives_empty_tables() -> None:
    firms = pd.DataFrame({"firm_id": ["S", "B"], "name": ["S", "B"], "role": ["supplier", "buyer"]})
    world = Dataset.from_frames(
        firms=firms, links=pd.DataFrame({"supplier_id": ["S"], "buyer_id": ["B"]})
    )
    assert single_sourced(world).empty
    assert sole_suppliers(world).empty
    assert category_concentration(world).empty


def test_demo_world_agrees_with_itself() -> None:
    hanoi = load_dataset(HANOI)
    pairs = single_sourced(hanoi)
    suppliers = sole_suppliers(hanoi)
    categories = category_concentration(hanoi).set_index("category_id")
    assert suppliers["sole_source_pairs"].sum() == len(pairs)
    per_category = pairs.groupby("category_id").size()
    assert (categories.loc[per_category.index, "single_sourced_buyers"] == per_category).all()
    assert categories["hhi"].between(0, 1).all()
    # The index is never below an even split between the category's suppliers.
    assert (categories["hhi"] >= 1 / categories["suppliers"] - 1e-12).all()
    assert (categories["top_share"] ** 2 <= categories["hhi"] + 1e-12).all()
