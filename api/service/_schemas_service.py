"""Bodies of the service itself: health, the served model, the audit log, and imports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "AuditPublic",
    "Health",
    "ImportProblem",
    "ImportRefused",
    "ImportResult",
    "ModelInfo",
]


class Health(BaseModel):
    """The service is up (and whether a model serves)."""

    status: str
    model_loaded: bool
    model_version: str | None


class RankerScore(BaseModel):
    """One ranker's inner-validation score (training data only, never a test split)."""

    ranker: str
    inner_ndcg_at_10: float = Field(validation_alias="inner_ndcg@10")
    weight: float | None = Field(
        None,
        description="For a learned blend ('logistic+ease'): the first ranker's share of the "
        "blended log-odds, chosen by inner validation",
    )


class ModelInfo(BaseModel):
    """The served model."""

    version: str | None
    trained_at: str | None
    mode: str | None
    ranker: str | None = Field(
        None, description="The ranker in use: chosen by inner validation when model is 'auto'"
    )
    selection: list[RankerScore] = Field(
        default_factory=list,
        description="Inner-validation NDCG@10 of every ranker compared at fit time",
    )
    ease_l2: float | None = Field(None, description="EASE's ridge penalty (None: EASE off)")
    training_fingerprint: str | None
    metrics: dict[str, Any]
    retraining: bool
    last_error: str | None


class AuditPublic(BaseModel):
    """One audit entry: who, when, what."""

    id: int
    at: dt.datetime
    actor: str
    actor_role: str
    action: str
    entity: str
    entity_key: str
    detail: dict[str, Any]


class ImportProblem(BaseModel):
    """One problem of an upload, as ``ketnoi validate --json`` reports it."""

    file: str
    line: int | None
    column: str | None
    reason: str
    severity: str


class ImportRefused(BaseModel):
    """An upload that was not loaded, with every problem found (the database is unchanged)."""

    detail: str
    ok: bool
    problems: list[ImportProblem]


class ImportResult(BaseModel):
    """A loaded upload: rows per contract file, and the warnings that did not block it."""

    source: str
    replace: bool
    fingerprint: str
    counts: dict[str, dict[str, int]]
    warnings: list[ImportProblem]
