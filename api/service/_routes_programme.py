"""Programme reports: localisation gaps, near-miss suppliers, concentration, indicators.

Staff and analysts only (a firm key gets 403). Every report reads the live database as a
dataset (cached, see :func:`._deps.get_dataset`), calls one :mod:`graph` function, and answers
JSON, or with ``format=csv`` / ``format=xlsx`` the same table as a file. The definitions are in
``docs/programme.md``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query

from ketnoi import programme
from ketnoi.api.service._deps import DatasetDep, Filter, ReaderKey
from ketnoi.api.service._files import (
    FILE_RESPONSES,
    FileOptions,
    FileQuery,
    json_or_file,
    records,
)
from ketnoi.api.service._schemas_programme import (
    ConcentrationReport,
    Grouping,
    IndicatorsReport,
    LocalisationReport,
    NearMissPairsReport,
    NearMissTargetsReport,
    SingleSourcedReport,
    SoleSuppliersReport,
)
from ketnoi.api.storage import Invalid, NotFound

__all__ = ["router"]

router = APIRouter(prefix="/v1/programme", tags=["programme"])

Category = Annotated[
    Filter, Query(description="Only demands for this category_id and its sub-categories.")
]
#: The years a report may span: each year is a localisation of its own (seconds on a large
#: world), so a span of two centuries would hold a worker for minutes.
MIN_YEAR, MAX_YEAR, MAX_YEARS = 1980, 2100, 50
Year = Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR)]


def _said(table: pd.DataFrame, dataset: Any, options: FileOptions) -> pd.DataFrame:
    """A report as a file says it: its words in the file's language (JSON keeps the codes)."""
    return programme.report_in_language(table, dataset, options.lang or "en")


def _share(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


#: Reports already made from a dataset (the object :func:`._deps.get_dataset` hands out until
#: a write or its expiry): the home page and the gaps page ask for the same ones again and
#: again, and each takes up to seconds on the demo world (docs/performance.md, issue 13).
_made: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], pd.DataFrame]] = (
    weakref.WeakKeyDictionary()
)
_made_lock = threading.Lock()


def _run(
    report: Callable[..., pd.DataFrame], dataset: Any, *args: Any, **kwargs: Any
) -> pd.DataFrame:
    """Run a report on ``dataset`` (or hand out a copy of the one made from this very dataset
    object); an unknown category is a 404, a bad argument a 422."""
    key = (report.__module__, report.__qualname__, args, tuple(sorted(kwargs.items())))
    with _made_lock:
        hit = _made.get(dataset, {}).get(key)
    if hit is not None:
        return hit.copy()
    try:
        table = report(dataset, *args, **kwargs)
    except KeyError as exc:
        raise NotFound(str(exc.args[0])) from None
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    with _made_lock:
        _made.setdefault(dataset, {})[key] = table.copy()
    return table


@router.get(
    "/localisation",
    response_model=LocalisationReport,
    responses=FILE_RESPONSES,
    summary="Localisation rates and gaps",
)
def localisation(
    key: ReaderKey,
    dataset: DatasetDep,
    by: Annotated[Grouping, Query(description="How demands are grouped.")] = "category",
    category: Category = None,
    gaps_only: Annotated[
        bool, Query(description="Only groups with no qualified local supplier.")
    ] = False,
    format: FileQuery = FileOptions(),
) -> Any:
    """Per group of demands: qualified and linked local suppliers, the localisation rate
    (covered by a linked or qualified local supplier), the linked rate (sourced locally today),
    the rate if near-miss suppliers gained what they lack, and the gaps (staff, analyst)."""
    table = _run(programme.localisation, dataset, by, category=category)
    if gaps_only:
        table = table[table["gap"]].reset_index(drop=True)
    name = f"localisation-{by}"
    return json_or_file(
        format,
        name,
        lambda: {name: _said(table, dataset, format)},
        lambda: {"by": by, "category": category, "items": records(table)},
    )


@router.get(
    "/near-misses",
    response_model=NearMissTargetsReport,
    responses=FILE_RESPONSES,
    summary="Near-miss suppliers grouped by what they lack",
)
def near_miss_targets(
    key: ReaderKey,
    dataset: DatasetDep,
    category: Category = None,
    format: FileQuery = FileOptions(),
) -> Any:
    """The support target list: each certification or process local suppliers are exactly one
    item short of, how many suppliers lack it, the demands and volume it would unlock, and the
    localisation rate if they gained it (staff, analyst)."""
    table = _run(programme.near_miss_targets, dataset, category=category)

    def body() -> dict[str, Any]:
        overall = _run(programme.localisation, dataset, "all", category=category).iloc[0]
        return {
            "category": category,
            "weighting": overall["weighting"],
            "localisation_rate": _share(overall["localisation_rate"]),
            "rate_if_all_gained": _share(overall["rate_if_near_misses_gained"]),
            "items": records(table),
        }

    return json_or_file(
        format,
        "near-miss-targets",
        lambda: {"near-miss-targets": _said(table, dataset, format)},
        body,
    )


@router.get(
    "/near-misses/pairs",
    response_model=NearMissPairsReport,
    responses=FILE_RESPONSES,
    summary="Near-miss suppliers, one row per supplier and demand",
)
def near_miss_pairs(
    key: ReaderKey,
    dataset: DatasetDep,
    category: Category = None,
    format: FileQuery = FileOptions(),
) -> Any:
    """Every local supplier with category fit exactly one certification or process short of a
    demand, with what it lacks (staff, analyst)."""
    table = _run(programme.near_misses, dataset, category=category)
    return json_or_file(
        format,
        "near-misses",
        lambda: {"near-misses": _said(table, dataset, format)},
        lambda: {"category": category, "items": records(table)},
    )


@router.get(
    "/concentration",
    response_model=ConcentrationReport,
    responses=FILE_RESPONSES,
    summary="Concentration of each category's suppliers",
)
def concentration(key: ReaderKey, dataset: DatasetDep, format: FileQuery = FileOptions()) -> Any:
    """Per category: active links, suppliers, buyers, the Herfindahl-Hirschman index over the
    suppliers' shares of the links, the top supplier and its share (staff, analyst)."""
    table = _run(programme.category_concentration, dataset)
    return json_or_file(
        format,
        "concentration",
        lambda: {"concentration": _said(table, dataset, format)},
        lambda: {"items": records(table)},
    )


@router.get(
    "/concentration/single-sourced",
    response_model=SingleSourcedReport,
    responses=FILE_RESPONSES,
    summary="Buyers with a single supplier for a category",
)
def single_sourced(key: ReaderKey, dataset: DatasetDep, format: FileQuery = FileOptions()) -> Any:
    """Each (buyer, category) pair with exactly one active supplier (staff, analyst)."""
    table = _run(programme.single_sourced, dataset)
    return json_or_file(
        format,
        "single-sourced",
        lambda: {"single-sourced": _said(table, dataset, format)},
        lambda: {"items": records(table)},
    )


@router.get(
    "/concentration/sole-suppliers",
    response_model=SoleSuppliersReport,
    responses=FILE_RESPONSES,
    summary="Suppliers that buyers depend on alone",
)
def sole_suppliers(key: ReaderKey, dataset: DatasetDep, format: FileQuery = FileOptions()) -> Any:
    """Suppliers by the number of (buyer, category) pairs they are the only source of
    (staff, analyst)."""
    table = _run(programme.sole_suppliers, dataset)
    return json_or_file(
        format,
        "sole-suppliers",
        lambda: {"sole-suppliers": _said(table, dataset, format)},
        lambda: {"items": records(table)},
    )


@router.get(
    "/indicators",
    response_model=IndicatorsReport,
    responses=FILE_RESPONSES,
    summary="Programme indicators against the targets",
)
def indicators(
    key: ReaderKey,
    dataset: DatasetDep,
    start: Year = None,
    end: Year = None,
    format: FileQuery = FileOptions(),
) -> Any:
    """Year by year: local supporting-industry firms, the internationally certified share,
    local firms at each tier of FDI buyers' chains, new links, the localisation and linked
    rates, each with the programme's target and whether it is on track (staff, analyst); at
    most 50 years from ``start`` to ``end``."""
    if start is not None and end is not None and end - start > MAX_YEARS:
        raise Invalid(f"start to end spans {end - start} years: at most {MAX_YEARS}")
    table = _run(programme.programme_indicators, dataset, start=start, end=end)
    return json_or_file(
        format,
        "indicators",
        lambda: {"indicators": _said(table, dataset, format)},
        lambda: {"items": records(table)},
    )
