"""Localisation: how much of what buyers demand local suppliers supply, or could supply.

Definitions (the same in the library, the ``ketnoi`` commands, the service and
``docs/programme.md``):

- A **local supplier** is a firm with ownership in :data:`LOCAL_OWNERSHIPS` and role supplier or
  both.
- A supplier has **category fit** for a demand when it has a capability in the demanded
  category or in one of its descendants in the category tree (a maker of ``stamp`` fits a demand
  for ``metal``; a maker of ``metal`` does not fit a demand for ``stamp``). A firm never fits its
  own demand.
- A **qualified** local supplier of a demand is a *listed* local supplier with category fit that
  holds every certification and masters every process the demand requires. Unlisted firms are
  left out because ketnoi never recommends them.
- A **linked** local supplier of a demand is a local supplier (listed or not) with an active link
  to the demand's buyer in the demanded category or a descendant. Links without a category are
  left out: they cannot be matched to a demand.
- A demand is **covered** when it has a linked or a qualified local supplier, and **linked** when
  it has a linked one (what is sourced locally today).
- A **near miss** is a listed local supplier with category fit that lacks exactly one of the
  demand's required certifications and processes (one item in all).
- The **localisation rate** of a set of demands is the covered share; the **linked rate** the
  linked share. Both are weighted by volume when every demand in the set has a volume and the
  volumes add up to more than zero; when any volume is missing (or all are zero) the set is
  counted demand by demand instead, because a demand of unknown size cannot be weighed. The
  ``weighting`` column says which was used, per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ketnoi.graph import LOCAL_OWNERSHIPS, SUPPLIER_ROLES, Dataset, category_ancestors

__all__ = [
    "LOCALISATION_GROUPS",
    "demand_coverage",
    "localisation",
    "near_miss_targets",
    "near_misses",
]

#: The ways :func:`localisation` groups demands, and the key columns each one gives.
LOCALISATION_GROUPS: dict[str, tuple[str, ...]] = {
    "category": ("category_id", "category_name"),
    "sector": ("sector",),
    "buyer": ("buyer_id", "buyer_name", "country_of_origin", "sector"),
    "origin": ("country_of_origin",),
    "all": (),
}

#: Label for an empty sector or country of origin in the grouped reports.
UNKNOWN = "unknown"

#: (demand column, firm column, kind) of the requirements a supplier must meet.
_KINDS: tuple[tuple[str, str, str], ...] = (
    ("required_certifications", "certifications", "certification"),
    ("required_processes", "processes", "process"),
)


# -- the data's categories --------------------------------------------------------------------
def check_category(dataset: Dataset, category: str | None) -> None:
    """Raise KeyError naming ``category`` when it is given and not a category of the data."""
    if category is not None and category not in set(dataset.categories["category_id"]):
        raise KeyError(f"'{category}' is not a category_id in the data")


# -- the coverage of every demand -------------------------------------------------------------
@dataclass(frozen=True)
class Coverage:
    """Every demand in scope and the local suppliers that fit, lack, or supply it.

    ``demands`` is indexed by the demand's row number in ``dataset.demands``; the other frames
    refer to it in their ``demand`` column.
    """

    demands: pd.DataFrame
    """buyer_id, buyer_name, country_of_origin, sector, category_id, category_name, volume,
    required_certifications, required_processes."""
    fits: pd.DataFrame
    """demand, supplier_id, founded, missing: every listed local supplier with category fit and
    how many required items it lacks (0 = qualified)."""
    lacking: pd.DataFrame
    """demand, supplier_id, kind, item: each required item a fitting supplier lacks."""
    linked: pd.DataFrame
    """demand, supplier_id, since: active links of local suppliers that serve a demand."""


def _items(frame: pd.DataFrame, id_column: str, column: str, kind: str) -> pd.DataFrame:
    """(id, kind, item) rows for a list column, one row per item."""
    long = frame[[id_column, column]].explode(column).dropna(subset=[column])
    return pd.DataFrame(
        {id_column: long[id_column].to_numpy(), "kind": kind, "item": long[column].to_numpy()}
    )


def coverage(dataset: Dataset, category: str | None = None) -> Coverage:
    """Work out :class:`Coverage` for the demands in ``category`` and its descendants (all
    demands when None).

    Raises
    ------
    KeyError
        If ``category`` is not a category of the data.
    """
    check_category(dataset, category)
    ancestors = category_ancestors(dataset.categories)
    firms = dataset.firms
    names = dict(zip(dataset.categories["category_id"], dataset.categories["name"], strict=True))

    demands = dataset.demands.rename(columns={"firm_id": "buyer_id"})
    if category is not None:
        under = ancestors.loc[ancestors["ancestor_id"] == category, "category_id"]
        demands = demands[demands["category_id"].isin(under)]
    buyer = firms.set_index("firm_id")
    demands = pd.DataFrame(
        {
            "buyer_id": demands["buyer_id"],
            "buyer_name": demands["buyer_id"].map(buyer["name"]),
            "country_of_origin": demands["buyer_id"].map(buyer["country_of_origin"]),
            "sector": demands["buyer_id"].map(buyer["sector"]),
            "category_id": demands["category_id"],
            "category_name": demands["category_id"].map(names),
            "volume": demands["volume"].astype("Float64"),
            "required_certifications": demands["required_certifications"],
            "required_processes": demands["required_processes"],
        }
    ).rename_axis("demand")
    for column in ("country_of_origin", "sector"):
        demands[column] = demands[column].replace("", UNKNOWN)
    keys = demands.reset_index()[["demand", "buyer_id", "category_id"]]

    local = firms[firms["ownership"].isin(LOCAL_OWNERSHIPS) & firms["role"].isin(SUPPLIER_ROLES)]
    pool = local[local["listed"].astype(bool)]

    # A capability fits a demand for its own category and for every ancestor of it.
    offers = dataset.capabilities[dataset.capabilities["firm_id"].isin(pool["firm_id"])]
    offers = offers.merge(ancestors, on="category_id")[["firm_id", "ancestor_id"]]
    offers = offers.drop_duplicates().rename(
        columns={"firm_id": "supplier_id", "ancestor_id": "category_id"}
    )
    fits = keys.merge(offers, on="category_id")
    fits = fits.loc[fits["supplier_id"] != fits["buyer_id"], ["demand", "supplier_id"]]

    wanted = pd.concat(
        [_items(demands.reset_index(), "demand", need, kind) for need, _, kind in _KINDS]
    )
    held = pd.concat([_items(pool, "firm_id", have, kind) for _, have, kind in _KINDS])
    held = held.rename(columns={"firm_id": "supplier_id"}).drop_duplicates()
    asked = fits.merge(wanted, on="demand")
    asked = asked.merge(held, on=["supplier_id", "kind", "item"], how="left", indicator=True)
    lacking = asked.loc[asked["_merge"] == "left_only", ["demand", "supplier_id", "kind", "item"]]
    lacking = lacking.reset_index(drop=True)
    missing = lacking.groupby(["demand", "supplier_id"]).size().rename("missing")
    fits = fits.merge(missing, on=["demand", "supplier_id"], how="left")
    fits["missing"] = fits["missing"].fillna(0).astype(int)
    fits["founded"] = fits["supplier_id"].map(pool.set_index("firm_id")["founded"])

    active = dataset.active_links
    active = active[active["supplier_id"].isin(local["firm_id"]) & (active["category_id"] != "")]
    served = active.merge(ancestors, on="category_id")[
        ["supplier_id", "buyer_id", "ancestor_id", "since"]
    ].rename(columns={"ancestor_id": "category_id"})
    linked = keys.merge(served, on=["buyer_id", "category_id"])
    # One supplier may serve a demand through links in several sub-categories: keep the first.
    linked = linked.sort_values("since", na_position="first", kind="stable")
    linked = linked.drop_duplicates(["demand", "supplier_id"])[["demand", "supplier_id", "since"]]
    return Coverage(demands, fits.reset_index(drop=True), lacking, linked.reset_index(drop=True))


def _has(pairs: pd.DataFrame, index: pd.Index) -> pd.Series:
    """True for each demand in ``index`` that appears in ``pairs``."""
    return pd.Series(index.isin(pairs["demand"]), index=index)


def _distinct(pairs: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Distinct suppliers per demand in ``index`` (0 where none)."""
    counts = pairs.groupby("demand")["supplier_id"].nunique()
    return counts.reindex(index, fill_value=0).astype(int)


def near_miss_gains(cov: Coverage) -> pd.DataFrame:
    """(demand, supplier_id) pairs that qualify once every near-miss supplier gains each item
    it is one short of somewhere, including pairs that then lack nothing though they lacked two
    or more of those items."""
    near = cov.fits.loc[cov.fits["missing"] == 1, ["demand", "supplier_id"]]
    gained = near.merge(cov.lacking, on=["demand", "supplier_id"])
    gained = gained[["supplier_id", "kind", "item"]].drop_duplicates()
    item = ["supplier_id", "kind", "item"]
    still = cov.lacking.merge(gained, on=item, how="left", indicator=True)
    still = still[still["_merge"] == "left_only"]
    candidates = cov.fits[cov.fits["missing"] > 0]
    candidates = candidates[candidates["supplier_id"].isin(gained["supplier_id"])]
    blocked = pd.MultiIndex.from_frame(still[["demand", "supplier_id"]])
    keep = ~pd.MultiIndex.from_frame(candidates[["demand", "supplier_id"]]).isin(blocked)
    return candidates.loc[keep, ["demand", "supplier_id"]]


def demand_weights(volume: pd.Series) -> tuple[pd.Series, str]:
    """Each demand's weight in a rate over all of ``volume``, and ``"volume"`` or ``"count"``."""
    if len(volume) and not volume.isna().any() and float(volume.sum()) > 0:
        return volume.astype(float), "volume"
    return pd.Series(1.0, index=volume.index), "count"


def _rates(
    frame: pd.DataFrame, keys: list[str], flags: Iterable[str]
) -> tuple[pd.DataFrame, list[str]]:
    """Demand counts, volumes and a weighted rate per group for each boolean column in ``flags``.

    Returns the aggregated frame (indexed by ``keys``; one row when ``keys`` is empty) and the
    names of the rate columns, one per flag (``<flag>_rate``).
    """
    flags = list(flags)
    volume = frame["volume"].fillna(0).astype(float)
    parts = {"_one": pd.Series(1, index=frame.index), "_no_volume": frame["volume"].isna()}
    parts["_volume"] = volume
    for flag in flags:
        parts[f"_{flag}_n"] = frame[flag].astype(int)
        parts[f"_{flag}_v"] = volume.where(frame[flag], 0.0)
    work = pd.concat([frame[keys], pd.DataFrame(parts)], axis=1)
    sums = list(parts)
    grouped = work.groupby(keys, sort=False)[sums].sum() if keys else work[sums].sum().to_frame().T
    by_volume = (grouped["_no_volume"] == 0) & (grouped["_volume"] > 0)
    total = grouped["_volume"].where(grouped["_volume"] > 0)
    out = {
        "demands": grouped["_one"].astype(int),
        "demands_without_volume": grouped["_no_volume"].astype(int),
        "volume": grouped["_volume"].astype(float),
        "weighting": pd.Series(np.where(by_volume, "volume", "count"), index=grouped.index),
    }
    names = []
    for flag in flags:
        n, v = grouped[f"_{flag}_n"], grouped[f"_{flag}_v"]
        out[f"demands_{flag}"] = n.astype(int)
        out[f"volume_{flag}"] = v.astype(float)
        rate = np.where(by_volume, v / total, n / grouped["_one"].where(grouped["_one"] > 0))
        out[f"{flag}_rate"] = pd.Series(rate, index=grouped.index, dtype=float)
        names.append(f"{flag}_rate")
    return pd.DataFrame(out), names


# -- public reports ---------------------------------------------------------------------------
def demand_coverage(dataset: Dataset, *, category: str | None = None) -> pd.DataFrame:
    """Each demand with the local suppliers that qualify for it, supply it, or nearly qualify.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset.
    category : str, optional
        Keep only demands for this category and its descendants.

    Returns
    -------
    pandas.DataFrame
        One row per demand, in dataset order: ``buyer_id``, ``buyer_name``,
        ``country_of_origin``, ``sector`` (of the buyer; empty text is ``"unknown"``),
        ``category_id``, ``category_name``, ``volume`` (nullable), ``required_certifications``,
        ``required_processes``, ``qualified_local_suppliers``, ``linked_local_suppliers``,
        ``near_miss_suppliers`` (counts), ``covered`` (a linked or qualified local supplier),
        ``linked`` and ``gap`` (no qualified local supplier). See the module notes for the
        definitions.

    Raises
    ------
    KeyError
        If ``category`` is not a category of the data.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> demand_coverage(tiny, category="metal")[["buyer_id", "category_id", "covered"]]
      buyer_id category_id  covered
    1       B1       stamp     True
    2       B1       screw     True
    3       B2       stamp     True
    4       B2       screw     True
    """
    cov = coverage(dataset, category)
    out = cov.demands.copy()
    qualified = cov.fits[cov.fits["missing"] == 0]
    out["qualified_local_suppliers"] = _distinct(qualified, out.index)
    out["linked_local_suppliers"] = _distinct(cov.linked, out.index)
    out["near_miss_suppliers"] = _distinct(cov.fits[cov.fits["missing"] == 1], out.index)
    out["covered"] = _has(qualified, out.index) | _has(cov.linked, out.index)
    out["linked"] = _has(cov.linked, out.index)
    out["gap"] = out["qualified_local_suppliers"] == 0
    return out.rename_axis(None)


def localisation(
    dataset: Dataset, by: str = "category", *, category: str | None = None
) -> pd.DataFrame:
    """Localisation rates of demand, grouped, with the gaps where no local supplier qualifies.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset.
    by : {"category", "sector", "buyer", "origin", "all"}
        Group demands by demanded category, by the buyer's sector, by buyer, by the buyer's
        country of origin, or not at all (one row).
    category : str, optional
        Keep only demands for this category and its descendants.

    Returns
    -------
    pandas.DataFrame
        One row per group, the lowest localisation rate first (then the largest volume):
        the key columns of :data:`LOCALISATION_GROUPS`, then ``demands``,
        ``demands_without_volume``, ``volume`` (the known volumes' sum), ``weighting``
        (``volume`` or ``count``), ``qualified_local_suppliers`` and ``linked_local_suppliers``
        (distinct firms over the group's demands), ``demands_covered``, ``volume_covered``,
        ``localisation_rate``, ``demands_linked``, ``volume_linked``, ``linked_rate``,
        ``rate_if_near_misses_gained`` (the localisation rate if every near-miss supplier
        gained each item it is one short of), ``gap_demands`` (demands with no qualified local
        supplier) and ``gap`` (no demand of the group has one).

    Raises
    ------
    ValueError
        If ``by`` is not one of the groupings.
    KeyError
        If ``category`` is not a category of the data.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> localisation(tiny, by="all")[["demands", "weighting", "localisation_rate", "linked_rate"]]
       demands weighting  localisation_rate  linked_rate
    0        6    volume                1.0     0.369483
    """
    if by not in LOCALISATION_GROUPS:
        raise ValueError(f"by must be one of {', '.join(LOCALISATION_GROUPS)}, not {by!r}")
    keys = list(LOCALISATION_GROUPS[by])
    cov = coverage(dataset, category)
    frame = cov.demands.copy()
    qualified = cov.fits.loc[cov.fits["missing"] == 0, ["demand", "supplier_id"]]
    frame["linked"] = _has(cov.linked, frame.index)
    frame["covered"] = _has(qualified, frame.index) | frame["linked"]
    gains = near_miss_gains(cov)
    frame["if_gained"] = frame["covered"] | _has(gains, frame.index)
    frame["gap"] = ~_has(qualified, frame.index)

    table, _ = _rates(frame, keys, ["covered", "linked", "if_gained"])
    table = table.rename(
        columns={
            "covered_rate": "localisation_rate",
            "if_gained_rate": "rate_if_near_misses_gained",
        }
    )
    group_of = frame[keys] if keys else pd.DataFrame(index=frame.index)
    for name, pairs in (("qualified", qualified), ("linked", cov.linked)):
        with_group = pairs.join(group_of, on="demand")
        column = f"{name}_local_suppliers"
        if keys:
            counts = with_group.groupby(keys, sort=False)["supplier_id"].nunique()
            table[column] = counts.reindex(table.index, fill_value=0).astype(int)
        else:
            table[column] = with_group["supplier_id"].nunique()
    gaps = frame.groupby(keys, sort=False)["gap"].sum() if keys else frame["gap"].sum()
    table["gap_demands"] = gaps if keys else int(gaps)
    table["gap_demands"] = table["gap_demands"].astype(int)
    table["gap"] = table["qualified_local_suppliers"] == 0
    table = table.reset_index() if keys else table.reset_index(drop=True)
    columns = [
        *keys,
        "demands",
        "demands_without_volume",
        "volume",
        "weighting",
        "qualified_local_suppliers",
        "linked_local_suppliers",
        "demands_covered",
        "volume_covered",
        "localisation_rate",
        "demands_linked",
        "volume_linked",
        "linked_rate",
        "rate_if_near_misses_gained",
        "gap_demands",
        "gap",
    ]
    table = table[columns]
    if keys:
        table = table.sort_values(
            ["localisation_rate", "volume", *keys[:1]],
            ascending=[True, False, True],
            kind="stable",
        )
    return table.reset_index(drop=True)


def near_misses(dataset: Dataset, *, category: str | None = None) -> pd.DataFrame:
    """Listed local suppliers with category fit that lack exactly one required item of a demand.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset.
    category : str, optional
        Keep only demands for this category and its descendants.

    Returns
    -------
    pandas.DataFrame
        One row per (supplier, demand) near miss, ordered by what is lacking, then supplier,
        buyer and category: ``lacking_kind`` (``certification`` or ``process``), ``lacking``,
        ``supplier_id``, ``supplier_name``, ``buyer_id``, ``category_id``, ``volume`` and
        ``demand_covered`` (the demand already has a linked or qualified local supplier).

    Raises
    ------
    KeyError
        If ``category`` is not a category of the data.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> near_misses(tiny)[["lacking", "supplier_id", "buyer_id", "category_id"]]
          lacking supplier_id buyer_id category_id
    0  IATF 16949          S5       B2       stamp
    """
    cov = coverage(dataset, category)
    near = cov.fits.loc[cov.fits["missing"] == 1, ["demand", "supplier_id"]]
    rows = near.merge(cov.lacking, on=["demand", "supplier_id"])
    covered = _has(cov.fits[cov.fits["missing"] == 0], cov.demands.index) | _has(
        cov.linked, cov.demands.index
    )
    names = dataset.firms.set_index("firm_id")["name"]
    out = pd.DataFrame(
        {
            "lacking_kind": rows["kind"],
            "lacking": rows["item"],
            "supplier_id": rows["supplier_id"],
            "supplier_name": rows["supplier_id"].map(names),
            "buyer_id": rows["demand"].map(cov.demands["buyer_id"]),
            "category_id": rows["demand"].map(cov.demands["category_id"]),
            "volume": rows["demand"].map(cov.demands["volume"]).astype("Float64"),
            "demand_covered": rows["demand"].map(covered).astype(bool),
        }
    )
    order = ["lacking_kind", "lacking", "supplier_id", "buyer_id", "category_id"]
    return out.sort_values(order, kind="stable").reset_index(drop=True)


def near_miss_targets(dataset: Dataset, *, category: str | None = None) -> pd.DataFrame:
    """The programme's support targets: what near-miss suppliers lack, and what gaining it
    would unlock.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset.
    category : str, optional
        Keep only demands for this category and its descendants.

    Returns
    -------
    pandas.DataFrame
        One row per lacking item (a certification or a process), the most demands unlocked
        first: ``lacking_kind``, ``lacking``, ``suppliers`` (how many near-miss suppliers lack
        it), ``supplier_ids`` (a tuple), ``demands`` and ``volume`` (the demands they would
        qualify for, counted once each, and their known volume), ``demands_newly_covered``
        (of those, demands with no linked or qualified local supplier today), then
        ``weighting``, ``localisation_rate`` (today, over every demand in scope) and
        ``rate_if_gained`` (if every supplier in the row gained the item). The rate if all
        near misses gained what they lack is ``rate_if_near_misses_gained`` in
        :func:`localisation` with ``by="all"``.

    Raises
    ------
    KeyError
        If ``category`` is not a category of the data.
    """
    cov = coverage(dataset, category)
    near = cov.fits.loc[cov.fits["missing"] == 1, ["demand", "supplier_id"]]
    rows = near.merge(cov.lacking, on=["demand", "supplier_id"])
    index = cov.demands.index
    covered = _has(cov.fits[cov.fits["missing"] == 0], index) | _has(cov.linked, index)
    columns = [
        "lacking_kind",
        "lacking",
        "suppliers",
        "supplier_ids",
        "demands",
        "volume",
        "demands_newly_covered",
        "weighting",
        "localisation_rate",
        "rate_if_gained",
    ]
    if rows.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})

    weight, weighting = demand_weights(cov.demands["volume"])
    total = float(weight.sum())
    now = float(weight[covered].sum()) / total
    item = ["kind", "item"]
    demands = rows.drop_duplicates([*item, "demand"]).reset_index(drop=True)
    # Gaining an item qualifies each supplier for the demands where it lacked only that item;
    # demands that are covered already add nothing to the rate.
    new = ~demands["demand"].map(covered).astype(bool)
    demands["newly_covered"] = new.astype(int)
    demands["added"] = demands["demand"].map(weight).where(new, 0.0)
    demands["volume"] = demands["demand"].map(cov.demands["volume"]).astype(float)
    by_item = demands.groupby(item)
    suppliers = rows.groupby(item)["supplier_id"]
    per_target = pd.DataFrame(
        {
            "suppliers": suppliers.nunique(),
            "supplier_ids": suppliers.agg(lambda s: tuple(sorted(set(s)))),
            "demands": by_item.size(),
            "volume": by_item["volume"].sum(),
            "demands_newly_covered": by_item["newly_covered"].sum(),
            "weighting": weighting,
            "localisation_rate": now,
            "rate_if_gained": now + by_item["added"].sum() / total,
        }
    )
    per_target = per_target.rename_axis(["lacking_kind", "lacking"]).reset_index()
    per_target = per_target[columns].astype(
        {"suppliers": int, "demands": int, "demands_newly_covered": int, "volume": float}
    )
    return per_target.sort_values(
        ["demands_newly_covered", "rate_if_gained", "demands", "lacking_kind", "lacking"],
        ascending=[False, False, False, True, True],
        kind="stable",
    ).reset_index(drop=True)
