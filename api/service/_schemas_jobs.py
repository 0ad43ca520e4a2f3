"""Bodies of jobs: long work answered ``202 Accepted`` and followed at ``/v1/jobs/{id}``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, Field

__all__ = ["JOB_ID_PATTERN", "JobId", "JobKind", "JobPublic", "JobState"]

#: A job id: 32 lower-case hexadecimal digits (random, so ids cannot be guessed in turn).
JOB_ID_PATTERN = r"^[0-9a-f]{32}$"
JobId = Annotated[str, Path(pattern=JOB_ID_PATTERN, min_length=32, max_length=32)]
JobKind = Literal["backtest", "retrain", "import", "match-list"]
JobState = Literal["queued", "running", "finished", "failed"]


class JobPublic(BaseModel):
    """A job: what it does, how far it got, and where its result is once it is done."""

    id: str = Field(pattern=JOB_ID_PATTERN, description="Follow it at /v1/jobs/{id}.")
    kind: str = Field(description="backtest, retrain, import or match-list.")
    state: JobState
    step: str = Field(description="What the job is doing now.")
    done: int = Field(ge=0, description="Units of the step done.")
    total: int | None = Field(None, ge=0, description="Units of the step (null: unknown).")
    progress: float | None = Field(
        None, ge=0, le=1, description="done / total, 1 when finished, null when unknown."
    )
    params: dict[str, Any] = Field(description="What was asked.")
    owner: str = Field(description="The key that asked (key:<id>).")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    heartbeat_at: dt.datetime = Field(description="When its worker last said it was alive.")
    result_url: str | None = Field(
        description="Where the result is, once finished (or a failed import's problems)."
    )
    error: str | None = Field(description="Why it failed.")


class JobAccepted(JobPublic):
    """The answer of a route that started a job (``202``; ``Location: /v1/jobs/{id}``)."""
