"""Programme indicators, year by year, against the programme's targets.

The indicators follow the supporting-industry programme for 2026-2030 (about 1,200 local
supporting-industry firms by 2030, over 40% of them meeting international standards, woven into
the multi-tier supply chains of FDI buyers):

- ``local_supporting_firms``: firms with ownership in :data:`LOCAL_OWNERSHIPS` and role
  supplier or both (listed or not), counted in a year from the year they were founded.
- ``certified_share``: the share of those holding at least one of
  :data:`INTERNATIONAL_CERTIFICATIONS`.
- ``tier_1_firms``, ``tier_2_firms``, ``tier_3plus_firms``: local supporting-industry firms
  at that tier of an FDI buyer's chain (:func:`firm_tiers`: tier 1 supplies an FDI buyer
  directly, tier 2 supplies a tier-1 firm, ...), over the active links that had started by the
  year.
- ``new_links`` and ``new_local_links``: links (active or ended) that started in the year, and
  those of them with a local supplier.
- ``localisation_rate`` and ``linked_rate``: as in :func:`localisation` over every demand, with
  the links that had started by the year and the local suppliers founded by then.

What the data cannot date is approximated, and the further back a year, the rougher:

- certifications, processes, capabilities and demands are undated snapshots, so every year uses
  today's (a firm counts as certified in every year it is counted, and a year's localisation
  rate is measured against today's demand);
- ended links carry no end year, so they are left out of every year's tiers and rates (an ended
  link still counts as a new link in the year it started);
- the data holds the firms that exist today, so firms that closed are missing from past years;
- a firm without a founded year counts in every year, a link without a since year in every year
  (but in no year's ``new_links``).

Each row is ``observed`` (a year the data covers) or ``projected`` (a target year after the
data ends, reached by carrying the indicator's average yearly change over the last three
observed years forward; shares are kept within 0 and 1). ``on_track`` compares the value with
the target for that same year (``value >= target``); rows in a year without a target have
neither.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from ketnoi.graph import (
    INTERNATIONAL_CERTIFICATIONS,
    LOCAL_OWNERSHIPS,
    SUPPLIER_ROLES,
    Dataset,
    firm_tiers,
)
from ketnoi.programme._localisation import coverage, demand_weights

__all__ = ["INDICATORS", "ProgrammeTargets", "programme_indicators"]

#: Indicators whose value is a share from 0 to 1 (the others are counts).
SHARE_INDICATORS = frozenset({"certified_share", "localisation_rate", "linked_rate"})
#: Years of history the projection's yearly pace is averaged over.
_PACE_YEARS = 3


def _no_target() -> Mapping[int, float]:
    return {}


@dataclass(frozen=True)
class ProgrammeTargets:
    """The programme's targets per indicator, as ``{year: value}``; settings, no behaviour.

    Defaults are the Hanoi supporting-industry programme 2026-2030's: 1,000 local
    supporting-industry firms in 2026 and 1,200 by 2030, and over 40% of them holding an
    international certification by 2030. Other indicators have no target unless one is given.

    Examples
    --------
    >>> ProgrammeTargets().local_supporting_firms
    {2026: 1000, 2030: 1200}
    >>> ProgrammeTargets(tier_1_firms={2030: 300}).tier_1_firms
    {2030: 300}
    """

    local_supporting_firms: Mapping[int, float] = field(
        default_factory=lambda: {2026: 1000, 2030: 1200}
    )
    certified_share: Mapping[int, float] = field(default_factory=lambda: {2030: 0.40})
    tier_1_firms: Mapping[int, float] = field(default_factory=_no_target)
    tier_2_firms: Mapping[int, float] = field(default_factory=_no_target)
    tier_3plus_firms: Mapping[int, float] = field(default_factory=_no_target)
    new_links: Mapping[int, float] = field(default_factory=_no_target)
    new_local_links: Mapping[int, float] = field(default_factory=_no_target)
    localisation_rate: Mapping[int, float] = field(default_factory=_no_target)
    linked_rate: Mapping[int, float] = field(default_factory=_no_target)

    @classmethod
    def from_file(cls, path: str | Path) -> ProgrammeTargets:
        """Targets from a ``.json`` or ``.toml`` file: ``{indicator: {year: value}}``.

        Indicators the file leaves out keep their defaults; an unknown indicator, a year
        that is not a whole number or a value that is not a number is a ``ValueError``
        naming the file and the entry.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "targets.json"
        >>> _ = path.write_text('{"tier_1_firms": {"2030": 300}}')
        >>> ProgrammeTargets.from_file(path).tier_1_firms
        {2030: 300.0}
        """
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        try:
            data: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not valid {path.suffix[1:] or 'JSON'}: {exc}") from None
        data = data.get("targets", data) if isinstance(data, dict) else data
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected {{indicator: {{year: value}}}}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"{path}: unknown indicator(s): {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))})"
            )
        chosen: dict[str, dict[int, float]] = {}
        for name, by_year in data.items():
            if not isinstance(by_year, dict):
                raise ValueError(f"{path}: {name}: expected {{year: value}}")
            chosen[name] = {}
            for year, value in by_year.items():
                if not str(year).isdigit():
                    raise ValueError(f"{path}: {name}: year {year!r} is not a whole number")
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{path}: {name}.{year}: {value!r} is not a number")
                chosen[name][int(year)] = float(value)
        return cls(**chosen)


#: The indicators, in report order (the fields of :class:`ProgrammeTargets`).
INDICATORS: tuple[str, ...] = tuple(f.name for f in fields(ProgrammeTargets))


def _by(years: pd.Series, year: int) -> pd.Series:
    """True where a (nullable) year is unknown or not after ``year``."""
    return (years.isna() | (years <= year)).fillna(True).astype(bool)


def _data_years(dataset: Dataset) -> tuple[int, int]:
    since = dataset.links["since"].dropna()
    founded = dataset.firms["founded"].dropna()
    last = max([int(s.max()) for s in (since, founded) if len(s)], default=dt.date.today().year)
    first = int(since.min()) if len(since) else last
    return first, last


def _tiers_by_year(dataset: Dataset, local: pd.Index, years: list[int]) -> pd.DataFrame:
    """Local supporting-industry firms at tier 1, 2 and 3 or more in each year."""
    G = nx.DiGraph()
    for firm in dataset.firms[["firm_id", "ownership", "role"]].itertuples(index=False):
        G.add_node(firm.firm_id, kind="firm", ownership=firm.ownership, role=firm.role)
    active = dataset.active_links.drop_duplicates(["supplier_id", "buyer_id"])
    rows = {}
    for year in years:
        started = active[_by(active["since"], year)]
        pairs = zip(started["supplier_id"], started["buyer_id"], strict=True)
        G.add_edges_from(pairs, kind="supplies_to")
        tiers = firm_tiers(G).reindex(local)
        rows[year] = {
            "tier_1_firms": int((tiers == 1).sum()),
            "tier_2_firms": int((tiers == 2).sum()),
            "tier_3plus_firms": int((tiers >= 3).sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _rates_by_year(dataset: Dataset, years: list[int]) -> pd.DataFrame:
    cov = coverage(dataset)
    weight, _ = demand_weights(cov.demands["volume"])
    qualified = cov.fits[cov.fits["missing"] == 0]
    rows = {}
    for year in years:
        linked = cov.demands.index.isin(cov.linked.loc[_by(cov.linked["since"], year), "demand"])
        ready = cov.demands.index.isin(qualified.loc[_by(qualified["founded"], year), "demand"])
        total = float(weight.sum())
        rows[year] = {
            "localisation_rate": float(weight[linked | ready].sum()) / total if total else None,
            "linked_rate": float(weight[linked].sum()) / total if total else None,
        }
    return pd.DataFrame.from_dict(rows, orient="index", dtype=float)


def _observed(dataset: Dataset, years: list[int]) -> pd.DataFrame:
    """Every indicator (columns) in every year (index)."""
    firms = dataset.firms
    local = firms[firms["ownership"].isin(LOCAL_OWNERSHIPS) & firms["role"].isin(SUPPLIER_ROLES)]
    certified = local["certifications"].map(
        lambda held: not INTERNATIONAL_CERTIFICATIONS.isdisjoint(held)
    )
    links = dataset.links
    local_supplier = links["supplier_id"].isin(local["firm_id"])
    counts = {}
    for year in years:
        alive = _by(local["founded"], year)
        counts[year] = {
            "local_supporting_firms": int(alive.sum()),
            "certified_share": float(certified[alive].mean()) if alive.any() else None,
            "new_links": int((links["since"] == year).sum()),
            "new_local_links": int(((links["since"] == year) & local_supplier).sum()),
        }
    table = pd.concat(
        [
            pd.DataFrame.from_dict(counts, orient="index"),
            _tiers_by_year(dataset, pd.Index(local["firm_id"]), years),
            _rates_by_year(dataset, years),
        ],
        axis=1,
    )
    return table[list(INDICATORS)].astype(float)


def _projection(series: pd.Series, year: int, share: bool) -> float:
    """``series`` (by year, gaps dropped) carried forward to ``year`` at its recent pace."""
    if series.empty:
        return float("nan")
    last = int(series.index.max())
    base = series[series.index >= last - _PACE_YEARS]
    first = int(base.index.min())
    pace = (series[last] - series[first]) / (last - first) if last > first else 0.0
    value = float(series[last] + pace * (year - last))
    return min(max(value, 0.0), 1.0) if share else value


def programme_indicators(
    dataset: Dataset,
    targets: ProgrammeTargets | None = None,
    *,
    start: int | None = None,
    end: int | None = None,
) -> pd.DataFrame:
    """The programme's indicators year by year, each against its target where one exists.

    Parameters
    ----------
    dataset : Dataset
        A validated dataset.
    targets : ProgrammeTargets, optional
        Targets to measure against; the programme's by default.
    start, end : int, optional
        First and last observed year; by default the first year a link started and the latest
        year in the data (a link's ``since`` or a firm's ``founded``).

    Returns
    -------
    pandas.DataFrame
        One row per (year, indicator), by year then in :data:`INDICATORS` order: ``year``,
        ``indicator``, ``basis`` (``observed`` or ``projected``), ``value``, ``target``
        (float, NaN where the year has none) and ``on_track`` (nullable boolean, NA where
        there is no target). Projected rows follow, one per target year after ``end``.

    Raises
    ------
    ValueError
        If ``start`` is after ``end``.

    Examples
    --------
    >>> from pathlib import Path
    >>> from ketnoi.graph import load_dataset
    >>> tiny = load_dataset(Path(__file__).resolve().parents[1] / "fixtures" / "tiny")
    >>> table = programme_indicators(tiny, start=2022, end=2022)
    >>> table[table["indicator"] == "local_supporting_firms"]
        year               indicator      basis  value  target  on_track
    0   2022  local_supporting_firms   observed    6.0     NaN      <NA>
    9   2026  local_supporting_firms  projected    6.0  1000.0     False
    10  2030  local_supporting_firms  projected    6.0  1200.0     False
    """
    targets = targets if targets is not None else ProgrammeTargets()
    first, last = _data_years(dataset)
    start = first if start is None else start
    end = last if end is None else end
    if start > end:
        raise ValueError(f"start ({start}) is after end ({end})")
    years = list(range(start, end + 1))
    observed = _observed(dataset, years)

    rows = []
    for year in years:
        for name in INDICATORS:
            rows.append((year, name, "observed", observed.at[year, name]))
    for name in INDICATORS:
        for year in sorted(y for y in getattr(targets, name) if y > end):
            projected = _projection(observed[name].dropna(), year, name in SHARE_INDICATORS)
            rows.append((year, name, "projected", projected))
    out = pd.DataFrame(rows, columns=["year", "indicator", "basis", "value"])
    out["target"] = [
        float(getattr(targets, name).get(year, float("nan")))
        for year, name in zip(out["year"], out["indicator"], strict=True)
    ]
    on_track = (out["value"] >= out["target"]).astype("boolean")
    out["on_track"] = on_track.mask(out["target"].isna() | out["value"].isna())
    return out.astype({"year": int, "value": float})
