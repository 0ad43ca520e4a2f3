"""Introductions: a supplier asks staff to meet the buyer behind a masked confidential demand.

A firm key reads another firm's confidential demand only as "a buyer in sector S needs
category C", with a ``reference`` (``GET /v1/suppliers/{id}/buyers``). It posts that reference
here to ask for an introduction: the request is recorded for staff (with the buyer, audited),
and the firm reads back its request without the buyer. Staff list the requests.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field, StringConstraints

from ketnoi.api.service._access import ensure_own_firm, masked_demand
from ketnoi.api.service._deps import AnyKey, EngineDep, PageQuery, StaffKey
from ketnoi.api.service._schemas import UNPROCESSABLE, Id, Page, RequestBody, Text
from ketnoi.api.storage import (
    NotFound,
    category_names,
    firm_sectors,
    list_introductions,
    request_introduction,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/introductions", tags=["introductions"])

#: A reference as the buyers' route hands it out.
Reference = Annotated[str, StringConstraints(pattern=r"^intro_[0-9a-f]{32}$")]


class IntroductionCreate(RequestBody):
    """A request to be introduced to the buyer of a masked demand."""

    reference: Reference = Field(
        description="The masked demand's reference, from GET /v1/suppliers/{id}/buyers."
    )
    category_id: Id
    supplier_id: Id | None = Field(None, description="Default: the key's own firm.")
    message: Text = ""


class IntroductionPublic(BaseModel):
    """A supplier's request, as the supplier reads it: the buyer stays hidden."""

    id: int
    supplier_id: str
    category_id: str
    demand: str = Field(description='"A buyer in sector S needs category C".')
    message: str
    created_at: dt.datetime


class IntroductionStaff(BaseModel):
    """A request as staff read it: who asked, for which buyer's demand."""

    id: int
    supplier_id: str
    supplier_name: str
    buyer_id: str
    buyer_name: str
    category_id: str
    message: str
    requested_by: str
    created_at: dt.datetime


@router.post(
    "",
    response_model=IntroductionPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Ask staff for an introduction to a masked demand's buyer",
)
def create_introduction(
    body: IntroductionCreate, engine: EngineDep, key: AnyKey, response: Response
) -> Any:
    """Record the supplier's request (staff for any supplier, a firm key for its own firm;
    201, or 200 with the first request where it asked already). A reference that names no
    live confidential demand for this supplier and category is a 404."""
    supplier_id = body.supplier_id or key.firm_id
    if not supplier_id:
        raise HTTPException(UNPROCESSABLE, "supplier_id is required")
    ensure_own_firm(key, supplier_id, write=True)
    made = request_introduction(
        engine, key, supplier_id, body.category_id, body.reference, body.message
    )
    if made is None:
        raise NotFound(f"no masked demand for '{body.category_id}' with this reference")
    row, new = made
    if not new:
        response.status_code = status.HTTP_200_OK
    sector = firm_sectors(engine, [row["buyer_id"]]).get(row["buyer_id"], "")
    name = category_names(engine).get(row["category_id"], "")
    return IntroductionPublic(
        id=row["id"],
        supplier_id=row["supplier_id"],
        category_id=row["category_id"],
        demand=masked_demand(sector, row["category_id"], name),
        message=row["message"],
        created_at=row["created_at"],
    )


@router.get("", response_model=Page[IntroductionStaff], summary="List introduction requests")
def list_requests(engine: EngineDep, key: StaffKey, paging: PageQuery) -> dict[str, Any]:
    """Every request, the newest first, with the buyer (staff only)."""
    found = list_introductions(engine, paging.page, paging.page_size)
    return paging.answer([IntroductionStaff(**row) for row in found.rows], found.total)
