"""Open Supply Hub facility downloads into the data contract.

An Open Supply Hub (OSH) download lists facilities, one row each (or, in the long form some
exports use, one row per contribution, the facility's columns filled on its first): ``os_id,
contribution_date, name, address, country_code, country_name, lat, lng, sector, contributor
(list), number_of_workers, parent_company, processing_type_facility_type_raw, facility_type,
processing_type, product_type, is_closed``. ``contributor (list)`` names, separated by ``|``,
the organisations that listed the facility. A contributor of type *Brand / Retailer* that
lists a facility buys from it: it becomes a buyer firm and the pair a link. The download does
not say each contributor's type; it comes from a ``contributor_type`` column (long form) or
from a table of contributor types the user supplies. A contributor whose type is unknown is
reported once and not taken as a buyer.

Facilities become supplier firms (``osh-<os_id>``); their product type and sector go through
:func:`ketnoi.graph.suggest_categories` to capabilities in the world's categories. Cells the
contract has no column for are kept in the firm's ``source_extra`` (JSON), rows that cannot be
read are problems naming file, row, column and reason, and kept raw in the result.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ketnoi.graph._adapt_common import AdaptResult, InputTable, firm_slug, read_input_table
from ketnoi.graph._normalise import fold, nfc
from ketnoi.graph._problems import Problem
from ketnoi.graph._products import Suggestion, suggester_for
from ketnoi.graph._taxonomy import walk_up

__all__ = ["BUYER_CONTRIBUTOR_TYPES", "OSH_COLUMNS", "OSH_CONTRIBUTOR_TYPES", "adapt_osh"]

#: The columns of an OSH facility download, in its order (its FacilityDownloadSerializer).
OSH_COLUMNS: tuple[str, ...] = (
    "os_id",
    "contribution_date",
    "name",
    "address",
    "country_code",
    "country_name",
    "lat",
    "lng",
    "sector",
    "contributor (list)",
    "number_of_workers",
    "parent_company",
    "processing_type_facility_type_raw",
    "facility_type",
    "processing_type",
    "product_type",
    "is_closed",
)
#: Further columns the adapter reads when present: the long form's contributor type.
_OPTIONAL = ("contributor_type",)
#: OSH contributor types whose listing of a facility makes them its buyer (folded).
BUYER_CONTRIBUTOR_TYPES: frozenset[str] = frozenset({"brand / retailer", "brand", "retailer"})
#: OSH's contributor types (folded). A contributor who chose not to be named is shown by its type
#: alone, with an article: "A Brand / Retailer", "An Academic / Researcher / Journalist / Student".
OSH_CONTRIBUTOR_TYPES: frozenset[str] = frozenset(
    {
        "brand / retailer",
        "civil society organization",
        "facility / factory / manufacturing group / supplier / vendor",
        "multi-stakeholder initiative",
        "academic / researcher / journalist / student",
        "auditor / certification scheme / service provider",
        "union",
        "other",
    }
)
#: Columns kept as they are in ``source_extra`` (the contract has no column for them).
_KEPT = (
    "contribution_date",
    "country_code",
    "country_name",
    "parent_company",
    "processing_type_facility_type_raw",
    "facility_type",
    "processing_type",
    "number_of_workers",
    "is_closed",
)
#: Below this a product suggestion is not made a capability (the user confirms the rest).
_MIN_CAPABILITY_SCORE = 0.35


def _split(cell: str) -> list[str]:
    return [p for p in (" ".join(nfc(x).split()) for x in cell.split("|")) if p]


def _workers(text: str) -> int | None:
    # OSH writes a head count or a range ("50-100", "1001-5000"); a range counts as its middle.
    parts = [p.strip().replace(",", "") for p in text.split("-")]
    if not 1 <= len(parts) <= 2 or not all(p.isdigit() for p in parts):
        return None
    numbers = [int(p) for p in parts]
    return sum(numbers) // len(numbers)


def _coordinate(text: str, limit: float) -> float | None:
    try:
        value = float(text)
    except ValueError:  # empty too
        return None
    return value if math.isfinite(value) and -limit <= value <= limit else None


def _read_types(path: Path | None, problems: list[Problem]) -> dict[str, str]:
    if path is None:
        return {}
    table, found = read_input_table(path)
    problems.extend(found)
    if table is None:
        return {}
    by_fold = {fold(h): h for h in table.header}
    name_col = by_fold.get("name") or by_fold.get("contributor")
    type_col = by_fold.get("type") or by_fold.get("contributor_type")
    if name_col is None or type_col is None:
        problems.append(
            Problem(table.label, None, None, "needs columns 'name' and 'type' (contributor types)")
        )
        return {}
    return {fold(row[name_col]): row[type_col] for _, row in table.rows if row[name_col].strip()}


@dataclass
class _Facility:
    lines: list[int] = field(default_factory=list)
    cells: dict[str, str] = field(default_factory=dict)
    contributors: dict[str, str] = field(default_factory=dict)  # name -> OSH type, "" unknown
    raw: list[dict[str, object]] = field(default_factory=list)


def _merge_rows(table: InputTable) -> dict[str, _Facility]:
    """Facilities by os_id: their first non-empty value of each column, every contributor."""
    facilities: dict[str, _Facility] = {}
    for line, row in table.rows:
        os_id = row.get("os_id", "").strip()
        if not os_id:
            continue  # reported by the caller, which keeps the row
        facility = facilities.setdefault(os_id, _Facility())
        facility.lines.append(line)
        facility.raw.append({"line": line, **row})
        for column, value in row.items():
            if value.strip() and not facility.cells.get(column):
                facility.cells[column] = value.strip()
        kind = row.get("contributor_type", "").strip()
        for name in _split(row.get("contributor (list)", "")):
            if kind or name not in facility.contributors:
                facility.contributors[name] = kind or facility.contributors.get(name, "")
    return facilities


def adapt_osh(
    path: Path,
    categories: pd.DataFrame | None = None,
    contributor_types: Path | None = None,
) -> AdaptResult:
    """Read an Open Supply Hub facility download (CSV or XLSX) into contract frames.

    Parameters
    ----------
    path : Path
        The download: OSH's columns (:data:`OSH_COLUMNS`; ``os_id`` and ``name`` needed).
    categories : DataFrame, optional
        The world's categories; with them, each facility's product type and sector are matched
        to categories (:func:`ketnoi.graph.suggest_categories`) and written as capabilities,
        and the categories used (with their ancestors) as ``categories``.
    contributor_types : Path, optional
        A CSV or XLSX table ``name, type`` of contributors' OSH types (``Brand / Retailer``...).

    Returns
    -------
    AdaptResult
        ``firms`` (facilities as suppliers, brands as buyers), ``links`` (brand buys from
        facility; ``ended`` where the facility is closed), ``capabilities`` and ``categories``
        when categories are given; the problems and every row left out.
    """
    problems: list[Problem] = []
    table, found = read_input_table(path)
    problems.extend(found)
    if table is None:
        return AdaptResult({}, problems)
    label = table.label
    missing = [c for c in ("os_id", "name") if c not in table.header]
    if missing:
        problems.append(
            Problem(label, None, None, f"not an Open Supply Hub download: no column {missing}")
        )
        return AdaptResult({}, problems, rejected=[{"line": ln, **r} for ln, r in table.rows])
    unknown = [h for h in table.header if h not in OSH_COLUMNS and h not in _OPTIONAL]
    for column in unknown:
        problems.append(
            Problem(label, None, column, "unknown column: kept in source_extra", "warning")
        )
    types = {**_read_types(contributor_types, problems)}
    rejected = []
    for line, row in table.rows:
        if not row.get("os_id", "").strip():
            problems.append(Problem(label, line, "os_id", "empty: the row names no facility"))
            rejected.append({"line": line, **row})
    facilities = _merge_rows(table)

    suggester = suggester_for(categories) if categories is not None else None
    firms: list[dict[str, object]] = []
    links: list[dict[str, object]] = []
    capabilities: list[dict[str, object]] = []
    buyers: dict[str, str] = {}
    unknown_types: set[str] = set()
    anonymous: set[str] = set()
    suggested: dict[str, list[Suggestion]] = {}
    sources: dict[str, list[str]] = {}
    for os_id, facility in facilities.items():
        cells = facility.cells
        line = facility.lines[0]
        name = cells.get("name", "")
        if not name:
            problems.append(Problem(label, line, "name", f"empty: facility {os_id} has no name"))
            rejected.extend(facility.raw)
            continue
        firm_id = firm_slug("osh", os_id)
        sources[firm_id] = [f"os_id {os_id}"]
        extra = {c: cells[c] for c in (*_KEPT, *unknown) if cells.get(c)}
        lat = _coordinate(cells.get("lat", ""), 90)
        lon = _coordinate(cells.get("lng", ""), 180)
        if (cells.get("lat") or cells.get("lng")) and (lat is None or lon is None):
            # The contract takes latitude and longitude together; a bad one drops both.
            bad = "lat" if lat is None else "lng"
            problems.append(
                Problem(label, line, bad,
                        f"{cells.get(bad, '')!r} is not a coordinate: lat and lng kept in"
                        " source_extra", "warning")
            )  # fmt: skip
            extra.update({"lat": cells.get("lat", ""), "lng": cells.get("lng", "")})
            lat = lon = None
        workers = _workers(cells["number_of_workers"]) if cells.get("number_of_workers") else None
        if cells.get("number_of_workers") and workers is None:
            problems.append(
                Problem(label, line, "number_of_workers",
                        f"{cells['number_of_workers']!r} is not a head count: kept in source_extra",
                        "warning")
            )  # fmt: skip
        firms.append(
            {
                "firm_id": firm_id,
                "name": name,
                "role": "supplier",
                "sector": "; ".join(_split(cells.get("sector", ""))),
                "address": cells.get("address", ""),
                "lat": lat,
                "lon": lon,
                "employees": workers,
                "description": "; ".join(_split(cells.get("product_type", ""))),
                "source_extra": json.dumps(extra, ensure_ascii=False) if extra else "",
            }
        )
        closed = cells.get("is_closed", "").strip().lower() in {"true", "yes", "1"}
        category = ""
        if suggester is not None:
            text = "; ".join(_split(cells.get("product_type", ""))) or "; ".join(
                _split(cells.get("sector", ""))
            )
            if text not in suggested:  # a download repeats a few product types many times
                suggested[text] = suggester.suggest(text, k=2)
            for suggestion in suggested[text]:
                if suggestion.score >= _MIN_CAPABILITY_SCORE:
                    capabilities.append({"firm_id": firm_id, "category_id": suggestion.category_id})
                    category = category or suggestion.category_id
        for contributor, kind in facility.contributors.items():
            article, _, rest = fold(contributor).partition(" ")
            if article in {"a", "an"} and rest in OSH_CONTRIBUTOR_TYPES:
                if rest in BUYER_CONTRIBUTOR_TYPES:
                    anonymous.add(contributor)
                continue  # a type without a name: no firm can be made of it
            kind = kind or types.get(fold(contributor), "")
            if not kind:
                unknown_types.add(contributor)
                continue
            if fold(kind) not in BUYER_CONTRIBUTOR_TYPES:
                continue
            buyer_id = buyers.setdefault(fold(contributor), firm_slug("osh-b", contributor))
            sources.setdefault(buyer_id, [f"contributor {contributor}"])
            links.append(
                {"supplier_id": firm_id, "buyer_id": buyer_id, "category_id": category,
                 "status": "ended" if closed else "active"}
            )  # fmt: skip
    for contributor in sorted(unknown_types):
        problems.append(
            Problem(label, None, "contributor (list)",
                    f"contributor {contributor!r}: type unknown, not taken as a buyer (give its"
                    " type in a contributor-types table)", "warning")
        )  # fmt: skip
    if anonymous:
        problems.append(
            Problem(label, None, "contributor (list)",
                    "an anonymous Brand / Retailer lists some facilities: no buyer can be made"
                    " of a contributor without a name", "warning")
        )  # fmt: skip
    written = {fold(c): c for f in facilities.values() for c in f.contributors}
    for key, buyer_id in buyers.items():
        firms.append({"firm_id": buyer_id, "name": written[key], "role": "buyer"})
    frames = _frames(firms, links, capabilities, categories)
    return AdaptResult(frames, problems, rejected, [], sources)


def _frames(
    firms: list[dict[str, object]],
    links: list[dict[str, object]],
    capabilities: list[dict[str, object]],
    categories: pd.DataFrame | None,
) -> dict[str, pd.DataFrame]:
    firm_frame = pd.DataFrame(
        firms, columns=list(firms[0]) if firms else ["firm_id", "name", "role"]
    )
    link_frame = pd.DataFrame(
        links, columns=["supplier_id", "buyer_id", "category_id", "status"]
    ).drop_duplicates(["supplier_id", "buyer_id", "category_id"])
    frames = {"firms": firm_frame, "links": link_frame}
    if categories is not None:
        capability_frame = pd.DataFrame(capabilities, columns=["firm_id", "category_id"])
        frames["capabilities"] = capability_frame.drop_duplicates()
        frames["categories"] = used_categories(
            categories, set(capability_frame["category_id"]) | set(link_frame["category_id"])
        )
    return frames


def used_categories(categories: pd.DataFrame, used: set[object]) -> pd.DataFrame:
    """The categories in ``used`` and their ancestors (so that every parent_id resolves)."""
    parent: Mapping[str, str] = dict(
        zip(categories["category_id"].astype(str), categories["parent_id"].fillna("").astype(str),
            strict=True)
    )  # fmt: skip
    keep: set[str] = set()
    for cid in (str(u) for u in used if u):
        if cid in parent:
            keep.update(walk_up(cid, lambda c: parent.get(c) or None))
    return categories[categories["category_id"].astype(str).isin(keep)].reset_index(drop=True)
