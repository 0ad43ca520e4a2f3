"""Demands: what firms buy or want to buy.

A confidential demand is shown to staff, analysts and its own firm only: to any other firm key
it does not exist (left out of lists and their totals, 404 when asked for, as an absent
demand is), and neither do the demands of unlisted or deleted firms. That "a buyer in sector
S needs category C" is told to suppliers with their recommendations, never here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from ketnoi import graph
from ketnoi.api.service._access import (
    demands_visible_to,
    ensure_own_firm,
    masked_demand,
    sees_private_data,
)
from ketnoi.api.service._deps import AnyKey, EngineDep, Filter, IdPath, PageQuery
from ketnoi.api.service._schemas import UNPROCESSABLE, Page
from ketnoi.api.service._schemas_demands import DemandCreate, DemandPublic, DemandUpdate
from ketnoi.api.storage import (
    DEMANDS,
    KeyInfo,
    NotFound,
    all_rows,
    category_names,
    create_row,
    delete_row,
    demand_query,
    firm_sectors,
    list_rows,
    update_row,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/demands", tags=["demands"])

Row = dict[str, Any]


def _db_values(fields: dict[str, Any]) -> Row:
    out = dict(fields)
    if "required_certifications" in out:
        certs = (graph.normalise_certification(c) for c in out["required_certifications"] or [])
        out["required_certifications"] = ";".join(dict.fromkeys(certs))
    if "required_processes" in out:
        processes = graph.split_list(list(out["required_processes"] or []))
        out["required_processes"] = ";".join(processes)
    if out.get("confidential", False) is None:
        raise HTTPException(UNPROCESSABLE, "confidential cannot be null")
    return out


def _views(engine: Any, rows: list[Row], key: KeyInfo) -> list[DemandPublic]:
    sectors = firm_sectors(engine, [r["firm_id"] for r in rows])
    names: dict[str, str] | None = None
    out = []
    for row in rows:
        sector = sectors.get(row["firm_id"], "")
        if row["confidential"] and not sees_private_data(key, row["firm_id"]):
            names = names if names is not None else category_names(engine)
            category = row["category_id"]
            summary = masked_demand(sector, category, names.get(category, ""))
            out.append(
                DemandPublic(masked=True, summary=summary, sector=sector, category_id=category)
            )
        else:
            out.append(DemandPublic.model_validate({**row, "sector": sector}))
    return out


@router.get("", response_model=Page[DemandPublic], summary="List demands")
def list_demands(
    engine: EngineDep,
    key: AnyKey,
    paging: PageQuery,
    firm_id: Filter = None,
    category_id: Filter = None,
) -> dict[str, Any]:
    """Live demands, by firm then category (every role; confidential ones masked for other
    firms' keys)."""
    query = demand_query(
        firm_id=firm_id, category_id=category_id, visible_to=demands_visible_to(key)
    )
    found = list_rows(engine, query, paging.page, paging.page_size)
    return paging.answer(_views(engine, found.rows, key), found.total)


@router.get("/{firm_id}/{category_id}", response_model=DemandPublic, summary="Get a demand")
def get_demand(firm_id: IdPath, category_id: IdPath, engine: EngineDep, key: AnyKey) -> Any:
    """One demand (404 where it is another firm's confidential demand, as where there is none)."""
    query = demand_query(
        firm_id=firm_id, category_id=category_id, visible_to=demands_visible_to(key)
    )
    rows = all_rows(engine, query)
    if not rows:
        raise NotFound(f"no demands row '{firm_id}/{category_id}'")
    return _views(engine, rows[:1], key)[0]


@router.post(
    "", response_model=DemandPublic, status_code=status.HTTP_201_CREATED, summary="File a demand"
)
def create_demand(body: DemandCreate, engine: EngineDep, key: AnyKey) -> Any:
    """A new demand (staff for any buyer; a firm key for its own firm, the default firm_id)."""
    values = body.model_dump()
    values["firm_id"] = values["firm_id"] or key.firm_id
    if not values["firm_id"]:
        raise HTTPException(UNPROCESSABLE, "firm_id is required")
    ensure_own_firm(key, values["firm_id"], write=True)
    row = create_row(engine, DEMANDS, _db_values(values), key)
    return _views(engine, [row], key)[0]


@router.patch("/{firm_id}/{category_id}", response_model=DemandPublic, summary="Update a demand")
def update_demand(
    firm_id: IdPath, category_id: IdPath, body: DemandUpdate, engine: EngineDep, key: AnyKey
) -> Any:
    """Change the fields given (staff, or the demand's own firm)."""
    ensure_own_firm(key, firm_id, write=True)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise HTTPException(UNPROCESSABLE, "no field to change was given")
    row = update_row(engine, DEMANDS, [firm_id, category_id], _db_values(changes), key)
    return _views(engine, [row], key)[0]


@router.delete(
    "/{firm_id}/{category_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a demand"
)
def delete_demand(firm_id: IdPath, category_id: IdPath, engine: EngineDep, key: AnyKey) -> Response:
    """Soft-delete a demand (staff, or the demand's own firm)."""
    ensure_own_firm(key, firm_id, write=True)
    delete_row(engine, DEMANDS, [firm_id, category_id], key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
