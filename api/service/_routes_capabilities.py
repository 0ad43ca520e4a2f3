"""Capabilities: what firms can make, keyed by (firm, category).

Every role reads capabilities, as every role sees a firm's capabilities among its public
fields; a firm key sees the capacity of its own capabilities only, and nothing of an unlisted
firm but its own. Staff write any capability, a firm key its own firm's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import Engine

from ketnoi.api.service._access import ensure_own_firm, is_reader, sees_private_data
from ketnoi.api.service._deps import AnyKey, EngineDep, Filter, IdPath, PageQuery
from ketnoi.api.service._schemas import UNPROCESSABLE, Page
from ketnoi.api.service._schemas_demands import (
    CapabilityCreate,
    CapabilityPublic,
    CapabilityUpdate,
)
from ketnoi.api.storage import (
    CAPABILITIES,
    FIRMS,
    KeyInfo,
    NotFound,
    capability_query,
    create_row,
    delete_row,
    get_row,
    list_rows,
    update_row,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/capabilities", tags=["capabilities"])

Row = dict[str, Any]


def _view(row: Row, key: KeyInfo) -> CapabilityPublic:
    return CapabilityPublic(
        firm_id=row["firm_id"],
        category_id=row["category_id"],
        capacity=row["capacity"] if sees_private_data(key, row["firm_id"]) else None,
    )


@router.get("", response_model=Page[CapabilityPublic], summary="List capabilities")
def list_capabilities(
    engine: EngineDep,
    key: AnyKey,
    paging: PageQuery,
    firm_id: Filter = None,
    category_id: Filter = None,
) -> dict[str, Any]:
    """Live capabilities, in load order (every role; see the module notes)."""
    query = capability_query(
        firm_id=firm_id,
        category_id=category_id,
        listed_or=None if is_reader(key) else (key.firm_id or ""),
    )
    found = list_rows(engine, query, paging.page, paging.page_size)
    return paging.answer([_view(r, key) for r in found.rows], found.total)


def _visible_row(engine: Engine, key: KeyInfo, firm_id: str, category_id: str) -> Row:
    row = get_row(engine, CAPABILITIES, [firm_id, category_id])
    if not sees_private_data(key, firm_id) and not get_row(engine, FIRMS, [firm_id])["listed"]:
        raise NotFound(f"no capabilities row '{firm_id}/{category_id}'")
    return row


@router.get("/{firm_id}/{category_id}", response_model=CapabilityPublic, summary="Get a capability")
def get_capability(
    firm_id: IdPath, category_id: IdPath, engine: EngineDep, key: AnyKey
) -> CapabilityPublic:
    """One capability (every role; see the module notes)."""
    return _view(_visible_row(engine, key, firm_id, category_id), key)


@router.post(
    "",
    response_model=CapabilityPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Add a capability",
)
def create_capability(body: CapabilityCreate, engine: EngineDep, key: AnyKey) -> CapabilityPublic:
    """A new capability (staff for any supplier; a firm key for its own firm, the default
    firm_id). The firm must be a supplier (or both), the category a category."""
    values = body.model_dump()
    values["firm_id"] = values["firm_id"] or key.firm_id
    if not values["firm_id"]:
        raise HTTPException(UNPROCESSABLE, "firm_id is required")
    ensure_own_firm(key, values["firm_id"], write=True)
    return _view(create_row(engine, CAPABILITIES, values, key), key)


@router.patch(
    "/{firm_id}/{category_id}", response_model=CapabilityPublic, summary="Update a capability"
)
def update_capability(
    firm_id: IdPath, category_id: IdPath, body: CapabilityUpdate, engine: EngineDep, key: AnyKey
) -> CapabilityPublic:
    """Change the capacity (staff, or the capability's own firm)."""
    ensure_own_firm(key, firm_id, write=True)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise HTTPException(UNPROCESSABLE, "no field to change was given")
    return _view(update_row(engine, CAPABILITIES, [firm_id, category_id], changes, key), key)


@router.delete(
    "/{firm_id}/{category_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a capability",
)
def delete_capability(
    firm_id: IdPath, category_id: IdPath, engine: EngineDep, key: AnyKey
) -> Response:
    """Soft-delete a capability (staff, or the capability's own firm)."""
    ensure_own_firm(key, firm_id, write=True)
    delete_row(engine, CAPABILITIES, [firm_id, category_id], key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
