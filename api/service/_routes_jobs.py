"""Jobs: long work started by another route (``202 Accepted``), followed here.

``GET /v1/jobs/{id}`` says how far a job got; ``GET /v1/jobs/{id}/result`` answers its result
once it is finished (JSON, or ``format=csv|xlsx`` where the result is a table; a result that
lives elsewhere, such as a match list, is a redirect to it). Any key may follow the jobs it may
see: staff and analysts every job, a firm key its own firm's (404 alike for absent and others').
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, status
from fastapi.responses import JSONResponse, RedirectResponse

from ketnoi.api import storage
from ketnoi.api.service._access import is_reader
from ketnoi.api.service._deps import AnyKey, EngineDep, PageQuery
from ketnoi.api.service._files import FILE_RESPONSES, FileOptions, FileQuery, json_or_file
from ketnoi.api.service._jobs import RunnerDep, job_public, visible_job
from ketnoi.api.service._schemas import Error, Page
from ketnoi.api.service._schemas_jobs import JobId, JobPublic

__all__ = ["ACCEPTED", "router"]

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

_ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": Error}, 404: {"model": Error}}

#: The ``responses`` entry of a route that may answer with a job.
ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "model": JobPublic,
        "description": "Long work: started as a job. Follow `Location` (`/v1/jobs/{id}`) until"
        " its state is `finished`, then fetch its `result_url`.",
        "headers": {
            "Location": {"description": "The job: /v1/jobs/{id}", "schema": {"type": "string"}}
        },
    }
}


@router.get("", response_model=Page[JobPublic], responses=_ERRORS, summary="List jobs")
def list_jobs(
    engine: EngineDep, runner: RunnerDep, key: AnyKey, paging: PageQuery
) -> dict[str, Any]:
    """Jobs newest first: every job for staff and analysts, a firm key's own firm's jobs."""
    firm = None if is_reader(key) else (key.firm_id or "")
    rows, total = storage.list_jobs(engine, paging.page, paging.page_size, firm_id=firm)
    return paging.answer([job_public(job, runner) for job in rows], total)


@router.get("/{job_id}", response_model=JobPublic, responses=_ERRORS, summary="Get a job")
def get_job(job_id: JobId, engine: EngineDep, runner: RunnerDep, key: AnyKey) -> dict[str, Any]:
    """A job's state (queued, running, finished, failed), its step and progress, and where its
    result is once finished."""
    return job_public(visible_job(engine, key, job_id), runner)


@router.get(
    "/{job_id}/result",
    responses={
        **_ERRORS,
        **FILE_RESPONSES,
        303: {"description": "The result lives elsewhere (a match list): follow Location."},
        409: {"model": Error, "description": "The job has not finished, or it failed."},
        422: {"description": "A failed import: its problems, as POST /v1/imports answers them."},
    },
    summary="Get a job's result",
)
def get_result(
    job_id: JobId, engine: EngineDep, key: AnyKey, format: FileQuery = FileOptions()
) -> Any:
    """The result of a finished job: JSON, or with ``format=csv|xlsx`` its table as a file."""
    job = visible_job(engine, key, job_id)
    if job.state == "failed":
        if job.result:  # the answer the request would have had, an import's problems
            return JSONResponse(job.result, status_code=422)
        return JSONResponse({"detail": f"job {job_id} failed: {job.error}"}, status_code=409)
    if job.state != "finished":
        return JSONResponse(
            {"detail": f"job {job_id} is {job.state}: follow /v1/jobs/{job_id} until it finishes"},
            status_code=status.HTTP_409_CONFLICT,
        )
    if job.result_url:
        return RedirectResponse(job.result_url, status_code=status.HTTP_303_SEE_OTHER)
    result = job.result or {}
    tables = result.get("tables") or {}
    if format.format != "json" and not tables:
        return JSONResponse({"detail": f"a {job.kind} job's result is JSON only"}, status_code=409)
    return json_or_file(
        format,
        f"{job.kind}-{job_id[:8]}",
        lambda: {name: pd.DataFrame(rows) for name, rows in tables.items()},
        result.get("body") or {},
    )
