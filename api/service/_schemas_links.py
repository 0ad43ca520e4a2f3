"""Bodies of supplier-buyer links and of what came of a pair (outcomes, appended only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from ketnoi.api.service._schemas import MAX_ID, Id, OptionalId, RequestBody, UpdateBody

__all__ = [
    "MAX_REASON",
    "LinkCreate",
    "LinkPublic",
    "LinkUpdate",
    "OutcomeCreate",
    "OutcomeKind",
    "OutcomePublic",
]

OutcomeKind = Literal["contacted", "met", "negotiating", "contracted", "declined"]
MAX_REASON = 2000


class LinkCreate(RequestBody):
    """An observed supplier-buyer relationship."""

    supplier_id: Id
    buyer_id: Id
    category_id: Annotated[str, StringConstraints(max_length=MAX_ID, pattern=r"^[^;\s/]*$")] = ""
    since: Annotated[int | None, Field(ge=1900, le=dt.date.today().year)] = None
    status: Literal["active", "ended"] = "active"


class LinkUpdate(UpdateBody):
    """Changes to a link."""

    NOT_NULL = ("status",)

    since: Annotated[int | None, Field(ge=1900, le=dt.date.today().year)] = None
    status: Literal["active", "ended"] | None = None


class LinkPublic(BaseModel):
    """A supplier-buyer relationship."""

    supplier_id: str
    buyer_id: str
    category_id: str
    since: int | None
    status: str


def _not_future(value: dt.date | None) -> dt.date | None:
    if value is not None and value.year > dt.date.today().year:
        raise ValueError(f"{value.isoformat()} is in a future year")
    return value


class OutcomeCreate(RequestBody):
    """What came of a supplier-buyer pair: appended, never overwritten."""

    supplier_id: Id
    buyer_id: Id
    outcome: OutcomeKind
    date: Annotated[dt.date | None, Field(ge=dt.date(1900, 1, 1))] = None
    event_id: OptionalId = ""
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=MAX_REASON),
        Field(validate_default=True),
    ] = ""

    _date_not_future = field_validator("date")(_not_future)

    @field_validator("reason")
    @classmethod
    def _declined_has_reason(cls, value: str, info: Any) -> str:
        if info.data.get("outcome") == "declined" and not value:
            raise ValueError("a declined outcome needs a reason")
        return value


class OutcomePublic(BaseModel):
    """One recorded outcome, with who recorded it and when."""

    id: int
    supplier_id: str
    buyer_id: str
    outcome: str
    date: dt.date | None
    event_id: str
    reason: str
    recorded_by: str
    recorded_at: dt.datetime
