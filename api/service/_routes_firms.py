"""Firms: list with filters and accent-insensitive name search, get, create, update, delete.

Staff and analysts see every field of every firm. A firm key sees every field of its own firm
and only the public fields (:class:`FirmSummary`) of the others, and never another firm that
is unlisted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status

from ketnoi import graph
from ketnoi.api.service._access import ensure_own_firm, is_reader, sees_private_data
from ketnoi.api.service._deps import AnyKey, EngineDep, Filter, IdPath, PageQuery, StaffKey
from ketnoi.api.service._schemas import MAX_TEXT, UNPROCESSABLE, Page, Role
from ketnoi.api.service._schemas_firms import FirmCreate, FirmPublic, FirmSummary, FirmUpdate
from ketnoi.api.storage import (
    FIRMS,
    KeyInfo,
    NotFound,
    capabilities_of,
    categories_under,
    create_row,
    delete_row,
    firm_query,
    get_row,
    list_rows,
    update_row,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/firms", tags=["firms"])

FirmIdPath = IdPath
Row = dict[str, Any]

_REQUIRED = ("name", "role", "listed", "contact_public")
_NULLABLE = ("lat", "lon", "employees", "founded")
#: Private unless the firm opted in (``contact_public``): docs/service.md.
CONTACT_FIELDS = ("address", "phone", "email", "website", "contact_person")


def _db_values(fields: dict[str, Any]) -> Row:
    """Body fields as the firms table stores them (the contract's normal forms)."""
    out = dict(fields)
    for name, value in fields.items():
        if value is None and name in _REQUIRED:
            raise HTTPException(UNPROCESSABLE, f"{name} cannot be null")
        if value is None and name not in _NULLABLE:
            out[name] = "" if name not in ("certifications", "processes", "languages") else []
    if "name" in out:
        out["name"] = graph.nfc(out["name"])
        out["name_folded"] = graph.fold(out["name"])
    if "certifications" in out:
        certs = (graph.normalise_certification(c) for c in out["certifications"])
        out["certifications"] = ";".join(dict.fromkeys(certs))
    for name in ("processes", "languages"):
        if name in out:
            out[name] = ";".join(graph.split_list(list(out[name])))
    for name in ("name_en", "sector", "description", "tax_code", *CONTACT_FIELDS):
        if name in out:
            out[name] = graph.nfc(out[name])
    return out


def _view(row: Row, key: KeyInfo, capabilities: list[str]) -> FirmPublic | FirmSummary:
    data = {**row, "capabilities": capabilities}
    if sees_private_data(key, row["firm_id"]):
        return FirmPublic.model_validate(data)
    if not row["contact_public"]:
        data = {k: v for k, v in data.items() if k not in CONTACT_FIELDS}
    return FirmSummary.model_validate(data)


def _visible(row: Row, key: KeyInfo) -> bool:
    return bool(row["listed"]) or sees_private_data(key, row["firm_id"])


@router.get("", response_model=Page[FirmPublic | FirmSummary], summary="List firms")
def list_firms(
    engine: EngineDep,
    key: AnyKey,
    paging: PageQuery,
    role: Role | None = None,
    sector: Annotated[str | None, Query(min_length=1, max_length=MAX_TEXT)] = None,
    park: Filter = None,
    certification: Filter = None,
    process: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    ownership: Annotated[
        Literal["domestic", "soe", "jv", "fdi"] | None,
        Query(description="The firm's ownership."),
    ] = None,
    country: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="Country of origin (ISO 3166 code)."),
    ] = None,
    category: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Firms able to make this category_id or one under it, or a category "
            "whose HS code starts with these digits ('85').",
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_TEXT,
            description="Name search ignoring accents and case: 'cong ty co khi' finds "
            "'Công ty Cơ khí ...'.",
        ),
    ] = None,
) -> dict[str, Any]:
    """Firms matching every filter, in firm_id order (every role; see the module notes)."""
    query = firm_query(
        role=role,
        sector=sector,
        park=park,
        certification=certification,
        process=process,
        q=q,
        listed_or=None if is_reader(key) else (key.firm_id or ""),
        ownership=ownership,
        country=country,
        category_ids=categories_under(engine, category) if category else None,
    )
    found = list_rows(engine, query, paging.page, paging.page_size)
    caps = capabilities_of(engine, [r["firm_id"] for r in found.rows])
    return paging.answer([_view(r, key, caps[r["firm_id"]]) for r in found.rows], found.total)


@router.get("/{firm_id}", response_model=FirmPublic | FirmSummary, summary="Get a firm")
def get_firm(firm_id: FirmIdPath, engine: EngineDep, key: AnyKey) -> FirmPublic | FirmSummary:
    """One firm: every field for staff, analysts and the firm itself, else the public fields."""
    row = get_row(engine, FIRMS, [firm_id])  # a merged firm's id gives the survivor
    if not _visible(row, key):
        raise NotFound(f"no firms row '{firm_id}'")
    return _view(row, key, capabilities_of(engine, [row["firm_id"]])[row["firm_id"]])


@router.post(
    "",
    response_model=FirmPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create a firm",
)
def create_firm(body: FirmCreate, engine: EngineDep, key: StaffKey) -> FirmPublic:
    """A new firm (staff). Written with an audit entry; the served model learns of it at the
    next retrain."""
    row = create_row(engine, FIRMS, _db_values(body.model_dump()), key)
    return FirmPublic.model_validate({**row, "capabilities": []})


@router.patch("/{firm_id}", response_model=FirmPublic, summary="Update a firm")
def update_firm(
    firm_id: FirmIdPath, body: FirmUpdate, engine: EngineDep, key: AnyKey
) -> FirmPublic:
    """Change the fields given (staff, or the firm's own key, which cannot change its role)."""
    ensure_own_firm(key, firm_id, write=True)
    changes = body.model_dump(exclude_unset=True)
    if key.role == "firm" and "role" in changes:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a firm key cannot change its role")
    if not changes:
        raise HTTPException(UNPROCESSABLE, "no field to change was given")
    row = update_row(engine, FIRMS, [firm_id], _db_values(changes), key)
    survivor = row["firm_id"]  # firm_id itself, or the firm it was merged into
    return FirmPublic.model_validate(
        {**row, "capabilities": capabilities_of(engine, [survivor])[survivor]}
    )


@router.delete("/{firm_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a firm")
def delete_firm(firm_id: FirmIdPath, engine: EngineDep, key: StaffKey) -> Response:
    """Soft-delete a firm with its links, capabilities and demands (staff)."""
    delete_row(engine, FIRMS, [firm_id], key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
