"""Links: observed supplier-buyer relationships, keyed by (supplier, buyer, category).

Staff and analysts read every link; a firm key reads the links where its firm is the supplier
or the buyer (other links are left out of lists, and a 403 when asked for by key). Only staff
write. A link without a category is addressed as ``/v1/links/{supplier_id}/{buyer_id}``.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import Engine

from ketnoi.api.service._access import ensure_own_firm, is_reader
from ketnoi.api.service._deps import AnyKey, EngineDep, Filter, IdPath, PageQuery, StaffKey
from ketnoi.api.service._schemas import UNPROCESSABLE, Page
from ketnoi.api.service._schemas_links import LinkCreate, LinkPublic, LinkUpdate
from ketnoi.api.storage import (
    LINKS,
    KeyInfo,
    create_row,
    delete_row,
    get_row,
    link_query,
    list_rows,
    update_row,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/links", tags=["links"])

Row = dict[str, Any]


@router.get("", response_model=Page[LinkPublic], summary="List links")
def list_links(
    engine: EngineDep,
    key: AnyKey,
    paging: PageQuery,
    supplier_id: Filter = None,
    buyer_id: Filter = None,
    category_id: Filter = None,
    status: Literal["active", "ended"] | None = None,
) -> dict[str, Any]:
    """Live links matching every filter, in load order (every role; a firm key sees only the
    links its firm is part of)."""
    query = link_query(
        supplier_id=supplier_id,
        buyer_id=buyer_id,
        category_id=category_id,
        status=status,
        party=key.firm_id,
        restrict=not is_reader(key),
    )
    found = list_rows(engine, query, paging.page, paging.page_size)
    return paging.answer(found.rows, found.total)


def _get(engine: Engine, key: KeyInfo, supplier_id: str, buyer_id: str, category_id: str) -> Row:
    ensure_own_firm(key, supplier_id, buyer_id)
    return get_row(engine, LINKS, [supplier_id, buyer_id, category_id])


@router.get(
    "/{supplier_id}/{buyer_id}/{category_id}", response_model=LinkPublic, summary="Get a link"
)
def get_link(
    supplier_id: IdPath, buyer_id: IdPath, category_id: IdPath, engine: EngineDep, key: AnyKey
) -> Row:
    """One link (staff, analysts, and the firms on either side)."""
    return _get(engine, key, supplier_id, buyer_id, category_id)


@router.get(
    "/{supplier_id}/{buyer_id}", response_model=LinkPublic, summary="Get a link without category"
)
def get_link_without_category(
    supplier_id: IdPath, buyer_id: IdPath, engine: EngineDep, key: AnyKey
) -> Row:
    """One link whose category is not given (staff, analysts, and the firms on either side)."""
    return _get(engine, key, supplier_id, buyer_id, "")


@router.post(
    "", response_model=LinkPublic, status_code=status.HTTP_201_CREATED, summary="Create a link"
)
def create_link(body: LinkCreate, engine: EngineDep, key: StaffKey) -> Row:
    """A new link (staff): the supplier must be a supplier (or both), the buyer a buyer (or
    both), the category a category. Written with an audit entry."""
    return create_row(engine, LINKS, body.model_dump(), key)


def _update(
    engine: Engine,
    key: KeyInfo,
    body: LinkUpdate,
    supplier_id: str,
    buyer_id: str,
    category_id: str,
) -> Row:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise HTTPException(UNPROCESSABLE, "no field to change was given")
    if "status" in changes and changes["status"] is None:
        raise HTTPException(UNPROCESSABLE, "status cannot be null")
    return update_row(engine, LINKS, [supplier_id, buyer_id, category_id], changes, key)


@router.patch(
    "/{supplier_id}/{buyer_id}/{category_id}", response_model=LinkPublic, summary="Update a link"
)
def update_link(
    supplier_id: IdPath,
    buyer_id: IdPath,
    category_id: IdPath,
    body: LinkUpdate,
    engine: EngineDep,
    key: StaffKey,
) -> Row:
    """Change ``since`` or ``status`` (staff)."""
    return _update(engine, key, body, supplier_id, buyer_id, category_id)


@router.patch(
    "/{supplier_id}/{buyer_id}",
    response_model=LinkPublic,
    summary="Update a link without category",
)
def update_link_without_category(
    supplier_id: IdPath, buyer_id: IdPath, body: LinkUpdate, engine: EngineDep, key: StaffKey
) -> Row:
    """Change ``since`` or ``status`` of a link whose category is not given (staff)."""
    return _update(engine, key, body, supplier_id, buyer_id, "")


@router.delete(
    "/{supplier_id}/{buyer_id}/{category_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a link",
)
def delete_link(
    supplier_id: IdPath, buyer_id: IdPath, category_id: IdPath, engine: EngineDep, key: StaffKey
) -> Response:
    """Soft-delete a link (staff)."""
    delete_row(engine, LINKS, [supplier_id, buyer_id, category_id], key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/{supplier_id}/{buyer_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a link without category",
)
def delete_link_without_category(
    supplier_id: IdPath, buyer_id: IdPath, engine: EngineDep, key: StaffKey
) -> Response:
    """Soft-delete a link whose category is not given (staff)."""
    delete_row(engine, LINKS, [supplier_id, buyer_id, ""], key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
