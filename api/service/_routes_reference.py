"""Parks and the category tree: read by every role, written by staff.

Writes keep the database a valid dataset: a category's parent must exist and may not lead back
to it (409), and a park or category still in use cannot be deleted (409).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import select

from ketnoi import graph
from ketnoi.api import storage
from ketnoi.api.service._deps import AnyKey, EngineDep, IdPath, PageQuery, StaffKey
from ketnoi.api.service._schemas import UNPROCESSABLE, Page
from ketnoi.api.service._schemas_firms import (
    CategoryCreate,
    CategoryNode,
    CategoryPublic,
    CategoryUpdate,
    ParkCreate,
    ParkPublic,
    ParkUpdate,
)
from ketnoi.api.storage import (
    CATEGORIES,
    PARKS,
    Park,
    create_row,
    delete_row,
    get_row,
    list_rows,
    update_row,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1")

Row = dict[str, Any]


@router.get("/parks", response_model=Page[ParkPublic], tags=["parks"], summary="List parks")
def list_parks(engine: EngineDep, key: AnyKey, paging: PageQuery) -> dict[str, Any]:
    """Industrial parks and clusters, by park_id (every role)."""
    query = select(Park).where(Park.deleted_at.is_(None)).order_by(Park.park_id)
    found = list_rows(engine, query, paging.page, paging.page_size)
    return paging.answer(found.rows, found.total)


@router.get("/parks/{park_id}", response_model=ParkPublic, tags=["parks"], summary="Get a park")
def get_park(park_id: IdPath, engine: EngineDep, key: AnyKey) -> Row:
    """One park (every role)."""
    return get_row(engine, PARKS, [park_id])


@router.get(
    "/categories",
    response_model=list[CategoryNode],
    tags=["categories"],
    summary="The category tree",
)
def category_tree(engine: EngineDep, key: AnyKey) -> list[dict[str, Any]]:
    """Every category, as a forest through ``parent_id``, by category_id (every role)."""
    return storage.category_tree(engine)


@router.get(
    "/categories/{category_id}",
    response_model=CategoryPublic,
    tags=["categories"],
    summary="Get a category",
)
def get_category(category_id: IdPath, engine: EngineDep, key: AnyKey) -> Row:
    """One category (every role)."""
    return get_row(engine, CATEGORIES, [category_id])


# -- writes (staff) -----------------------------------------------------------------------------
_REQUIRED = ("name",)
_TEXTS = ("name", "name_vi", "kind")


def _db_values(fields: dict[str, Any]) -> Row:
    """Body fields as the tables store them: required names not null, texts in NFC."""
    out = dict(fields)
    for name, value in fields.items():
        if value is None and name in _REQUIRED:
            raise HTTPException(UNPROCESSABLE, f"{name} cannot be null")
        if value is None and name not in ("lat", "lon"):
            out[name] = ""
        elif name in _TEXTS and isinstance(value, str):
            out[name] = " ".join(graph.nfc(value).split())
    return out


def _changes(body: ParkUpdate | CategoryUpdate) -> Row:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise HTTPException(UNPROCESSABLE, "no field to change was given")
    return _db_values(changes)


@router.post(
    "/parks",
    response_model=ParkPublic,
    status_code=status.HTTP_201_CREATED,
    tags=["parks"],
    summary="Create a park",
)
def create_park(body: ParkCreate, engine: EngineDep, key: StaffKey) -> Row:
    """A new park (staff). The first park turns firms' parks into references: while firms
    name parks as free text, it is refused (409)."""
    return create_row(engine, PARKS, _db_values(body.model_dump()), key)


@router.patch(
    "/parks/{park_id}", response_model=ParkPublic, tags=["parks"], summary="Update a park"
)
def update_park(park_id: IdPath, body: ParkUpdate, engine: EngineDep, key: StaffKey) -> Row:
    """Change the fields given (staff)."""
    return update_row(engine, PARKS, [park_id], _changes(body), key)


@router.delete(
    "/parks/{park_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["parks"],
    summary="Delete a park",
)
def delete_park(park_id: IdPath, engine: EngineDep, key: StaffKey) -> Response:
    """Soft-delete a park that no firm is in (staff; 409 while a firm is)."""
    delete_row(engine, PARKS, [park_id], key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/categories",
    response_model=CategoryPublic,
    status_code=status.HTTP_201_CREATED,
    tags=["categories"],
    summary="Create a category",
)
def create_category(body: CategoryCreate, engine: EngineDep, key: StaffKey) -> Row:
    """A new category under an existing ``parent_id`` (or a root) (staff)."""
    return create_row(engine, CATEGORIES, _db_values(body.model_dump()), key)


@router.patch(
    "/categories/{category_id}",
    response_model=CategoryPublic,
    tags=["categories"],
    summary="Update a category",
)
def update_category(
    category_id: IdPath, body: CategoryUpdate, engine: EngineDep, key: StaffKey
) -> Row:
    """Change the fields given (staff); a ``parent_id`` that would form a cycle is a 409."""
    return update_row(engine, CATEGORIES, [category_id], _changes(body), key)


@router.delete(
    "/categories/{category_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["categories"],
    summary="Delete a category",
)
def delete_category(category_id: IdPath, engine: EngineDep, key: StaffKey) -> Response:
    """Soft-delete a category nothing uses (staff; 409 while sub-categories, capabilities,
    demands, links or category inputs use it)."""
    delete_row(engine, CATEGORIES, [category_id], key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
