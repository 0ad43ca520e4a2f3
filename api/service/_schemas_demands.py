"""Bodies of what firms can make (capabilities) and what they buy (demands)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from ketnoi.api.service._schemas import Id, Items, RequestBody, UpdateBody, split_items

__all__ = [
    "CapabilityCreate",
    "CapabilityPublic",
    "CapabilityUpdate",
    "DemandCreate",
    "DemandPublic",
    "DemandUpdate",
]


class CapabilityCreate(RequestBody):
    """What a firm can make (``firm_id`` defaults to the caller's firm)."""

    firm_id: Id | None = None
    category_id: Id
    capacity: Annotated[float | None, Field(ge=0, le=1e15)] = None


class CapabilityUpdate(UpdateBody):
    """Changes to a capability."""

    capacity: Annotated[float | None, Field(ge=0, le=1e15)] = None


class CapabilityPublic(BaseModel):
    """What a firm can make, and how much a year."""

    firm_id: str
    category_id: str
    capacity: float | None


class DemandCreate(RequestBody):
    """What a firm buys or wants to buy (``firm_id`` defaults to the caller's firm)."""

    firm_id: Id | None = None
    category_id: Id
    volume: Annotated[float | None, Field(ge=0, le=1e15)] = None
    required_certifications: Items = []
    required_processes: Items = []
    confidential: bool = False


class DemandUpdate(UpdateBody):
    """Changes to a demand."""

    NOT_NULL = ("confidential",)

    volume: Annotated[float | None, Field(ge=0, le=1e15)] = None
    required_certifications: Items | None = None
    required_processes: Items | None = None
    confidential: bool | None = None


class DemandPublic(BaseModel):
    """A demand. A confidential demand of another firm is masked: only ``masked``,
    ``summary``, ``sector`` and ``category_id`` are filled ("a buyer in sector S needs C")."""

    masked: bool = False
    summary: str = ""
    firm_id: str | None = None
    sector: str = ""
    category_id: str
    volume: float | None = None
    required_certifications: list[str] = []
    required_processes: list[str] = []
    confidential: bool | None = None

    _split_lists = field_validator("required_certifications", "required_processes", mode="before")(
        split_items
    )
