"""Parks and the category tree (read by every role)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from api.storage import Category, Park

from ._deps import AnyKey, EngineDep
from ._schemas import (
    MAX_ID,
    MAX_PAGE,
    MAX_PAGE_SIZE,
    CategoryNode,
    CategoryPublic,
    Page,
    ParkPublic,
)
from ._store import CATEGORIES, PARKS, Row, all_rows, get_row, list_rows

__all__ = ["router"]

router = APIRouter(prefix="/v1")

IdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID)]


@router.get("/parks", response_model=Page[ParkPublic], tags=["parks"], summary="List parks")
def list_parks(
    engine: EngineDep,
    key: AnyKey,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> dict[str, Any]:
    """Industrial parks and clusters, by park_id (every role)."""
    query = select(Park).where(Park.deleted_at.is_(None)).order_by(Park.park_id)
    found = list_rows(engine, query, page, page_size)
    return {"items": found.rows, "total": found.total, "page": page, "page_size": page_size}


@router.get("/parks/{park_id}", response_model=ParkPublic, tags=["parks"], summary="Get a park")
def get_park(park_id: IdPath, engine: EngineDep, key: AnyKey) -> Row:
    """One park (every role)."""
    return get_row(engine, PARKS, [park_id])


def _tree(rows: list[Row]) -> list[dict[str, Any]]:
    nodes = {r["category_id"]: {**r, "children": []} for r in rows}
    roots: list[dict[str, Any]] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"])
        (parent["children"] if parent is not None else roots).append(node)
    return roots


@router.get(
    "/categories",
    response_model=list[CategoryNode],
    tags=["categories"],
    summary="The category tree",
)
def category_tree(engine: EngineDep, key: AnyKey) -> list[dict[str, Any]]:
    """Every category, as a forest through ``parent_id``, by category_id (every role)."""
    query = select(Category).where(Category.deleted_at.is_(None)).order_by(Category.category_id)
    return _tree(all_rows(engine, query))


@router.get(
    "/categories/{category_id}",
    response_model=CategoryPublic,
    tags=["categories"],
    summary="Get a category",
)
def get_category(category_id: IdPath, engine: EngineDep, key: AnyKey) -> Row:
    """One category (every role)."""
    return get_row(engine, CATEGORIES, [category_id])
