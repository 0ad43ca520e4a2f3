"""Concentration: where a buyer's supply of a category hangs on one supplier.

Definitions (over *active* links; a link without a category is left out, since it cannot be
placed in a category; a link counts in its own category only, not in the category's ancestors):

- A buyer is **single-sourced** in a category when exactly one supplier has an active link to
  it in that category.
- A supplier's **sole-source pairs** are the (buyer, category) pairs where it is that one
  supplier: the buyers that would lose their only source of the category without it.
- A category's **concentration index** is the Herfindahl-Hirschman index over its suppliers'
  shares of the category's active links: ``sum(share ** 2)``, from ``1 / n`` (``n`` suppliers
  with equal shares) up to 1 (one supplier holds every link). A link is one (supplier, buyer)
  relationship, so a supplier's share is the share of the category's buyer relationships it
  holds, not of volume, which links do not carry.
"""

from __future__ import annotations

import pandas as pd

from ketnoi.graph import LOCAL_OWNERSHIPS, Dataset

__all__ = ["category_concentration", "single_sourced", "sole_suppliers"]


def _categorised_active_links(dataset: Dataset) -> pd.DataFrame:
    active = dataset.active_links
    return active.loc[
        active["category_id"] != "", ["supplier_id", "buyer_id", "category_id", "since"]
    ]


def _names(dataset: Dataset) -> tuple[pd.Series, pd.Series, pd.Series]:
    firms = dataset.firms.set_index("firm_id")
    categories = dataset.categories.set_index("category_id")["name"]
    return firms["name"], firms["ownership"].isin(LOCAL_OWNERSHIPS), categories


def single_sourced(dataset: Dataset) -> pd.DataFrame:
    """Buyers that depend on a single supplier for a category.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset.

    Returns
    -------
    pandas.DataFrame
        One row per single-sourced (buyer, category) pair, ordered by buyer, then category:
        ``buyer_id``, ``buyer_name``, ``category_id``, ``category_name``, ``supplier_id``,
        ``supplier_name``, ``supplier_local`` (ownership in :data:`LOCAL_OWNERSHIPS`) and
        ``since`` (the year the link started, nullable).

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> single_sourced(tiny)[["buyer_id", "category_id", "supplier_id"]]
      buyer_id category_id supplier_id
    0       B1        pcba          T1
    1       B1       stamp          S2
    2       B2       screw          S3
    3       B2       stamp          S2
    4       T1         pcb          S1
    """
    links = _categorised_active_links(dataset)
    suppliers = links.groupby(["buyer_id", "category_id"])["supplier_id"].transform("size")
    sole = links[suppliers == 1]
    name, local, category = _names(dataset)
    out = pd.DataFrame(
        {
            "buyer_id": sole["buyer_id"],
            "buyer_name": sole["buyer_id"].map(name),
            "category_id": sole["category_id"],
            "category_name": sole["category_id"].map(category),
            "supplier_id": sole["supplier_id"],
            "supplier_name": sole["supplier_id"].map(name),
            "supplier_local": sole["supplier_id"].map(local).astype(bool),
            "since": sole["since"],
        }
    )
    return out.sort_values(["buyer_id", "category_id"], kind="stable").reset_index(drop=True)


def sole_suppliers(dataset: Dataset) -> pd.DataFrame:
    """Suppliers that buyers depend on as their only source of a category.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset.

    Returns
    -------
    pandas.DataFrame
        One row per supplier with at least one sole-source pair, the most first (ties by
        supplier id): ``supplier_id``, ``supplier_name``, ``supplier_local``,
        ``sole_source_pairs`` (single-sourced (buyer, category) pairs it is the source of),
        ``buyers`` (distinct buyers among them), ``categories`` (distinct categories among
        them) and ``active_links`` (all its categorised active links).

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> sole_suppliers(tiny)[["supplier_id", "sole_source_pairs", "buyers"]]
      supplier_id  sole_source_pairs  buyers
    0          S2                  2       2
    1          S1                  1       1
    2          S3                  1       1
    3          T1                  1       1
    """
    pairs = single_sourced(dataset)
    links = _categorised_active_links(dataset)
    grouped = pairs.groupby("supplier_id")
    name, local, _ = _names(dataset)
    out = pd.DataFrame(
        {
            "sole_source_pairs": grouped.size(),
            "buyers": grouped["buyer_id"].nunique(),
            "categories": grouped["category_id"].nunique(),
        }
    ).rename_axis("supplier_id")
    out["active_links"] = links["supplier_id"].value_counts().reindex(out.index).astype(int)
    out = out.reset_index()
    out.insert(1, "supplier_name", out["supplier_id"].map(name))
    out.insert(2, "supplier_local", out["supplier_id"].map(local).astype(bool))
    out = out.astype({"sole_source_pairs": int, "buyers": int, "categories": int})
    return out.sort_values(
        ["sole_source_pairs", "supplier_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def category_concentration(dataset: Dataset) -> pd.DataFrame:
    """The Herfindahl-Hirschman concentration of each category's active links over suppliers.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset.

    Returns
    -------
    pandas.DataFrame
        One row per category with at least one categorised active link, the most concentrated
        first (then the most links, then category id): ``category_id``, ``category_name``,
        ``links``, ``suppliers``, ``buyers``, ``hhi`` (0 to 1), ``top_supplier_id`` (most
        links; ties go to the smallest id) and its ``top_supplier_name``, ``top_share``,
        ``local_share`` (share of the links held by local suppliers) and
        ``single_sourced_buyers`` (buyers with one supplier in the category).

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> category_concentration(tiny)[["category_id", "links", "suppliers", "hhi"]]
      category_id  links  suppliers  hhi
    0       stamp      2          1  1.0
    1         pcb      1          1  1.0
    2        pcba      1          1  1.0
    3       screw      1          1  1.0
    """
    links = _categorised_active_links(dataset)
    name, local, category = _names(dataset)
    per_supplier = links.groupby(["category_id", "supplier_id"]).size().rename("n").reset_index()
    total = per_supplier.groupby("category_id")["n"].transform("sum")
    per_supplier["share"] = per_supplier["n"] / total
    top = per_supplier.sort_values(
        ["category_id", "n", "supplier_id"], ascending=[True, False, True], kind="stable"
    ).drop_duplicates("category_id")
    by_category = links.groupby("category_id")
    buyer_suppliers = links.groupby(["category_id", "buyer_id"]).size()
    out = pd.DataFrame(
        {
            "links": by_category.size(),
            "suppliers": by_category["supplier_id"].nunique(),
            "buyers": by_category["buyer_id"].nunique(),
            "hhi": (per_supplier["share"] ** 2).groupby(per_supplier["category_id"]).sum(),
            "top_supplier_id": top.set_index("category_id")["supplier_id"],
            "top_share": top.set_index("category_id")["share"],
            "local_share": links["supplier_id"].map(local).groupby(links["category_id"]).mean(),
            "single_sourced_buyers": (buyer_suppliers == 1).groupby(level="category_id").sum(),
        }
    ).rename_axis("category_id")
    out = out.reset_index()
    out.insert(1, "category_name", out["category_id"].map(category))
    out.insert(
        list(out.columns).index("top_supplier_id") + 1,
        "top_supplier_name",
        out["top_supplier_id"].map(name),
    )
    out = out.astype(
        {
            "links": int,
            "suppliers": int,
            "buyers": int,
            "single_sourced_buyers": int,
            "hhi": float,
            "top_share": float,
            "local_share": float,
        }
    )
    return out.sort_values(
        ["hhi", "links", "category_id"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)
