"""Bodies of firms and of the reference data they point to: parks and the category tree."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ketnoi.api.service._schemas import (
    MAX_ID,
    Country,
    Id,
    Items,
    Name,
    OptionalId,
    Ownership,
    RequestBody,
    Role,
    Text,
    UpdateBody,
    split_items,
)

__all__ = [
    "CategoryCreate",
    "CategoryNode",
    "CategoryPublic",
    "CategoryUpdate",
    "FirmCreate",
    "FirmPublic",
    "FirmSummary",
    "FirmUpdate",
    "ParkCreate",
    "ParkPublic",
    "ParkUpdate",
]

#: A telephone number, e-mail address or website: one short line.
Contact = Annotated[str, StringConstraints(max_length=200)]
HsCode = Annotated[str, StringConstraints(max_length=20, pattern=r"^[0-9.]*$")]


# -- firms ------------------------------------------------------------------------------------
class _FirmFields(RequestBody):
    name_en: Text = ""
    tax_code: Annotated[str, StringConstraints(max_length=20)] = ""
    ownership: Ownership = ""
    country_of_origin: Country = ""
    sector: Text = ""
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    park: Annotated[str, StringConstraints(max_length=MAX_ID)] = ""
    employees: Annotated[int | None, Field(ge=0, le=10_000_000)] = None
    founded: Annotated[int | None, Field(ge=1900, le=dt.date.today().year)] = None
    certifications: Items = []
    processes: Items = []
    languages: Items = []
    listed: bool = True
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    address: Text = ""
    phone: Contact = ""
    email: Contact = ""
    website: Contact = ""
    contact_person: Text = ""
    contact_public: bool = False


class FirmCreate(_FirmFields):
    """A new firm (staff only)."""

    firm_id: Id
    name: Name
    role: Role


class FirmUpdate(UpdateBody):
    """Changes to a firm: only the fields given are changed."""

    NOT_NULL = ("name", "role", "listed", "contact_public")

    name: Name | None = None
    role: Role | None = None
    name_en: Text | None = None
    tax_code: Annotated[str | None, StringConstraints(max_length=20)] = None
    ownership: Ownership | None = None
    country_of_origin: Country | None = None
    sector: Text | None = None
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    park: Annotated[str | None, StringConstraints(max_length=MAX_ID)] = None
    employees: Annotated[int | None, Field(ge=0, le=10_000_000)] = None
    founded: Annotated[int | None, Field(ge=1900, le=dt.date.today().year)] = None
    certifications: Items | None = None
    processes: Items | None = None
    languages: Items | None = None
    listed: bool | None = None
    description: Annotated[str | None, StringConstraints(max_length=5000)] = None
    address: Text | None = None
    phone: Contact | None = None
    email: Contact | None = None
    website: Contact | None = None
    contact_person: Text | None = None
    contact_public: bool | None = None


class FirmSummary(BaseModel):
    """What any key holder may see of a firm: its public fields, and its contact fields
    where the firm opted in (``contact_public``; else null)."""

    firm_id: str
    name: str
    name_en: str
    role: str
    sector: str
    park: str
    certifications: list[str]
    processes: list[str]
    capabilities: list[str]
    country_of_origin: str
    ownership: str
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    contact_person: str | None = None

    _split_lists = field_validator("certifications", "processes", mode="before")(split_items)


class FirmPublic(FirmSummary):
    """Every field of a firm: for staff, analysts and the firm itself."""

    tax_code: str
    lat: float | None
    lon: float | None
    employees: int | None
    founded: int | None
    languages: list[str]
    listed: bool
    description: str
    contact_public: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    _split_more = field_validator("languages", mode="before")(split_items)


# -- parks and categories ---------------------------------------------------------------------


class ParkCreate(RequestBody):
    """A new industrial park or cluster."""

    # Latitude and longitude come together (the storage refuses one without the other).
    model_config = ConfigDict(
        json_schema_extra={"dependentRequired": {"lat": ["lon"], "lon": ["lat"]}}
    )

    park_id: Id
    name: Name
    name_vi: Text = ""
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    kind: Text = ""


class ParkUpdate(UpdateBody):
    """Changes to a park."""

    NOT_NULL = ("name",)

    name: Name | None = None
    name_vi: Text | None = None
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None
    lon: Annotated[float | None, Field(ge=-180, le=180)] = None
    kind: Text | None = None


class ParkPublic(BaseModel):
    """An industrial park or cluster."""

    park_id: str
    name: str
    name_vi: str = ""
    lat: float | None
    lon: float | None
    kind: str


class CategoryPublic(BaseModel):
    """A product category."""

    category_id: str
    name: str
    name_vi: str
    parent_id: str
    hs_code: str


class CategoryNode(CategoryPublic):
    """A category with its sub-categories."""

    children: list[CategoryNode] = []


class CategoryCreate(RequestBody):
    """A new product category (``parent_id`` an existing category, or ``""`` for a root)."""

    category_id: Id
    name: Name
    name_vi: Text = ""
    parent_id: OptionalId = ""
    hs_code: HsCode = ""


class CategoryUpdate(UpdateBody):
    """Changes to a category: only the fields given are changed."""

    NOT_NULL = ("name",)

    name: Name | None = None
    name_vi: Text | None = None
    parent_id: OptionalId | None = None
    hs_code: HsCode | None = None
