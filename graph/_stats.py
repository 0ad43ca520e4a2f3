"""A dataset's supply graph in numbers, as one JSON-ready dict for reports and the API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from typing import Any

import pandas as pd

from ketnoi.graph._build import build_supply_graph
from ketnoi.graph._contract import INTERNATIONAL_CERTIFICATIONS, LOCAL_OWNERSHIPS, SUPPLIER_ROLES
from ketnoi.graph._dataset import Dataset
from ketnoi.graph._tiers import firm_tiers

__all__ = ["graph_summary"]

#: Key used for an empty text value (no sector, no park, no year ...) in the counts.
UNKNOWN = "unknown"


def _counts(values: Iterable[Hashable]) -> dict[str, int]:
    """Counts keyed by text, most common first, ties by key, so the output is stable."""
    counter = Counter(UNKNOWN if v in ("", None) or v is pd.NA else str(v) for v in values)
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def _distribution(degrees: Iterable[int]) -> dict[str, int]:
    """``{degree: number of firms}`` in increasing degree, keys as text for JSON."""
    counter = Counter(degrees)
    return {str(d): counter[d] for d in sorted(counter)}


def _id_list(ids: Iterable[Hashable]) -> dict[str, Any]:
    ids = sorted(str(i) for i in ids)
    return {"count": len(ids), "ids": ids}


def _degrees(dataset: Dataset) -> dict[str, dict[str, int]]:
    # Distinct partners over active links; firms of the role with no partner count as degree 0.
    active = dataset.active_links.drop_duplicates(["supplier_id", "buyer_id"])
    buyers_of = active["supplier_id"].value_counts()
    suppliers_of = active["buyer_id"].value_counts()
    return {
        "supplier_out_degree": _distribution(
            int(buyers_of.get(f, 0)) for f in dataset.supplier_ids
        ),
        "buyer_in_degree": _distribution(int(suppliers_of.get(f, 0)) for f in dataset.buyer_ids),
    }


def _certified_locals(dataset: Dataset) -> dict[str, Any]:
    firms = dataset.firms
    local_suppliers = firms[
        firms["ownership"].isin(LOCAL_OWNERSHIPS) & firms["role"].isin(SUPPLIER_ROLES)
    ]
    certified = local_suppliers["certifications"].map(
        lambda certs: not INTERNATIONAL_CERTIFICATIONS.isdisjoint(certs)
    )
    total, hits = len(local_suppliers), int(certified.sum())
    return {
        "local_suppliers": total,
        "local_suppliers_certified": hits,
        "local_suppliers_certified_share": hits / total if total else None,
    }


def _tiers(dataset: Dataset) -> dict[str, int]:
    tiers = firm_tiers(dataset)
    counter = Counter(int(t) for t in tiers.dropna())
    out = {str(t): counter[t] for t in sorted(counter)}
    out["unlinked"] = int(tiers.isna().sum())
    return out


def _link_counts(dataset: Dataset) -> dict[str, Any]:
    links = dataset.links
    linked = set(links["supplier_id"]) | set(links["buyer_id"])
    active = dataset.active_links
    active_linked = set(active["supplier_id"]) | set(active["buyer_id"])
    firm_ids = list(dataset.firms["firm_id"])
    years = [UNKNOWN if pd.isna(y) else str(int(y)) for y in links["since"]]
    return {
        "links_by_status": {
            "active": int((links["status"] == "active").sum()),
            "ended": int((links["status"] == "ended").sum()),
        },
        "links_by_since": dict(sorted(Counter(years).items())),
        "firms_without_links": _id_list(f for f in firm_ids if f not in linked),
        "firms_without_active_links": _id_list(f for f in firm_ids if f not in active_linked),
    }


def graph_summary(dataset: Dataset) -> dict[str, Any]:
    """Describe a dataset's supply graph in counts.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset.

    Returns
    -------
    dict
        JSON-ready (every key text, every value a plain int, float, str, list, dict or None,
        so ``json.loads(json.dumps(s)) == s``). Empty text values are counted under
        ``"unknown"``; count dicts list the most common value first. Keys:

        - ``nodes``, ``edges``: counts by ``kind`` in :func:`build_supply_graph` (active links);
        - ``firms``, ``local_firms`` (ownership in :data:`LOCAL_OWNERSHIPS`);
        - ``firms_by_role``, ``firms_by_sector``, ``firms_by_park``, ``firms_by_ownership``,
          ``firms_by_country``;
        - ``firms_by_tier``: overall tier (:func:`firm_tiers`) as text, then ``"unlinked"``;
        - ``supplier_out_degree``: ``{number of buyers: suppliers}`` and ``buyer_in_degree``:
          ``{number of suppliers: buyers}``, over distinct partners on active links, for every
          firm of the role (zero included);
        - ``firms_without_links`` / ``firms_without_active_links``: ``{"count", "ids"}``;
        - ``local_suppliers``, ``local_suppliers_certified`` (holding any of
          :data:`INTERNATIONAL_CERTIFICATIONS`) and ``local_suppliers_certified_share``
          (None where there are no local suppliers);
        - ``links_by_status`` (``active``, ``ended``) and ``links_by_since`` (year as text).

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> graph_summary(tiny)["firms_by_tier"]
    {'0': 2, '1': 3, '2': 1, 'unlinked': 2}
    """
    G = build_supply_graph(dataset)
    firms = dataset.firms
    return {
        "nodes": _counts(kind for _, kind in G.nodes(data="kind")),
        "edges": _counts(kind for *_, kind in G.edges(data="kind")),
        "firms": len(firms),
        "local_firms": int(firms["ownership"].isin(LOCAL_OWNERSHIPS).sum()),
        "firms_by_role": _counts(firms["role"]),
        "firms_by_sector": _counts(firms["sector"]),
        "firms_by_park": _counts(firms["park"]),
        "firms_by_ownership": _counts(firms["ownership"]),
        "firms_by_country": _counts(firms["country_of_origin"]),
        "firms_by_tier": _tiers(dataset),
        **_degrees(dataset),
        **_link_counts(dataset),
        **_certified_locals(dataset),
    }
