"""Capabilities: what firms can make, keyed by (firm, category).

Every role reads capabilities, as every role sees a firm's capabilities among its public
fields; a firm key sees the capacity of its own capabilities only, and nothing of an unlisted
firm but its own. Staff write any capability, a firm key its own firm's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import Engine

from ketnoi.api.service._deps import AnyKey, EngineDep, Filter, IdPath, ensure_own_firm, is_reader
from ketnoi.api.service._schemas import (
    MAX_PAGE,
    MAX_PAGE_SIZE,
    UNPROCESSABLE,
    CapabilityCreate,
    CapabilityPublic,
    CapabilityUpdate,
    Page,
)
from ketnoi.api.service._store import (
    CAPABILITIES,
    FIRMS,
    NotFound,
    Row,
    capability_query,
    create_row,
    delete_row,
    get_row,
    list_rows,
    update_row,
)
from ketnoi.api.storage import KeyInfo

__all__ = ["router"]

router = APIRouter(prefix="/v1/capabilities", tags=["capabilities"])


def _view(row: Row, key: KeyInfo) -> CapabilityPublic:
    own = is_reader(key) or key.firm_id == row["firm_id"]
    return CapabilityPublic(
        firm_id=row["firm_id"],
        category_id=row["category_id"],
        capacity=row["capacity"] if own else None,
    )


@router.get("", response_model=Page[CapabilityPublic], summary="List capabilities")
def list_capabilities(
    engine: EngineDep,
    key: AnyKey,
    firm_id: Filter = None,
    category_id: Filter = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    """Live capabilities, in load order (every role; see the module notes)."""
    query = capability_query(
        firm_id=firm_id,
        category_id=category_id,
        listed_or=None if is_reader(key) else (key.firm_id or ""),
    )
    found = list_rows(engine, query, page, page_size)
    items = [_view(r, key) for r in found.rows]
    return {"items": items, "total": found.total, "page": page, "page_size": page_size}


def _visible_row(engine: Engine, key: KeyInfo, firm_id: str, category_id: str) -> Row:
    row = get_row(engine, CAPABILITIES, [firm_id, category_id])
    hidden = not is_reader(key) and key.firm_id != firm_id
    if hidden and not get_row(engine, FIRMS, [firm_id])["listed"]:
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
