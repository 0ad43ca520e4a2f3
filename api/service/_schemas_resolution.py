"""Bodies of entity resolution: intake answers, the review queue, decisions and merges."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from ketnoi.api.service._schemas import Id, Text
from ketnoi.api.service._schemas_service import ImportProblem

__all__ = [
    "DecisionCreate",
    "DecisionResult",
    "IntakeRecord",
    "IntakeResult",
    "MergeCreate",
    "MergePublic",
    "ReviewPublic",
]


class IntakeRecord(BaseModel):
    """One row of a list and where it went."""

    source: str
    sheet: str
    line: int
    name: str
    rule: str = Field(description="Why: tax_code, same record, decided before, a blocking rule...")
    firm_id: str | None = Field(None, description="The firm it is (matched or created)")
    candidates: list[str] = Field(
        default_factory=list, description="Proposed: the firms it may be, each a review"
    )


class IntakeResult(BaseModel):
    """What an intake did: every record matched, proposed for review or made a firm."""

    source: str
    method_version: str
    counts: dict[str, int]
    matched: list[IntakeRecord]
    proposed: list[IntakeRecord]
    created: list[IntakeRecord]
    mapping: dict[str, Any] = Field(description="The column mapping used, per sheet")
    categories: list[dict[str, Any]] = Field(
        default_factory=list,
        description="For each row with products in free text: the suggested categories (each "
        "with its HS code and a score in [0, 1]), the best HS heading, and the proposed choice "
        "(category_id, hs_code), for a person to confirm",
    )
    warnings: list[ImportProblem]


class ReviewPublic(BaseModel):
    """A pair waiting for a person (or answered): the record and the firm side by side."""

    id: int
    record: dict[str, Any]
    firm: dict[str, Any]
    match_probability: float | None
    match_weight: float | None
    rule: str
    evidence: dict[str, Any]
    accept: float | None
    review: float | None
    method_version: str
    created_at: dt.datetime
    decision: str
    decided_at: dt.datetime | None
    decided_by: str


class DecisionCreate(BaseModel):
    """A person's answer to a review: the record is that firm, or it is not."""

    decision: Literal["match", "distinct"]
    role: Literal["supplier", "buyer", "both"] = Field(
        "supplier", description="The role of the firm a last 'distinct' creates"
    )


class DecisionResult(BaseModel):
    """What the answer did."""

    id: int
    decision: str
    firm_id: str = Field(description="The firm the waiting records now belong to ('' if none)")
    records: int
    created: bool


class MergeCreate(BaseModel):
    """Merge ``absorbed_id`` into ``survivor_id`` (undoable)."""

    survivor_id: Id
    absorbed_id: Id
    reason: Text = ""


class MergePublic(BaseModel):
    """A merge: who, when, whether undone, and how many values it moved per table."""

    id: int
    survivor_id: str
    absorbed_id: str
    created_at: dt.datetime
    created_by: str
    undone_at: dt.datetime | None
    undone_by: str
    moved: dict[str, int]
