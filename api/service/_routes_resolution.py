"""Entity resolution over HTTP (staff only): intake of officers' lists, the review queue, answers,
merges and unmerges.

``POST /v1/resolution/intake`` takes an ``.xlsx`` list as an import takes its file (multipart
field ``file`` or the raw body; at most 20 MB, checked whole before it is read), reads it with
the source's saved column mapping (the proposed one the first time, then saved for the next
list), and stores its rows as source records, each matched, proposed for review or made a firm,
in one transaction: a list with any error writes nothing (422 naming list, sheet, row, column and
reason). The reviews, answers, merges and unmerges each call one storage function. Every write
bumps the write generation, so the served model scores the merged register from the next
question on, as after any other write.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Annotated, Any

import fastapi
from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from ketnoi import graph
from ketnoi.api.service._deps import EngineDep, StaffKey
from ketnoi.api.service._routes_imports import (
    XLSX,
    Refused,
    problem_json,
    read_upload,
    refusal,
    unpack_upload,
    upload_folder,
)
from ketnoi.api.service._schemas import MAX_ID, MAX_ROW_ID, Error
from ketnoi.api.service._schemas_resolution import (
    DecisionCreate,
    DecisionResult,
    IntakeResult,
    MergeCreate,
    MergePublic,
    ReviewPublic,
)
from ketnoi.api.service._schemas_service import ImportRefused
from ketnoi.api.storage import (
    KeyInfo,
    data_dir_of,
    decide_review,
    get_merge,
    get_review,
    intake_records,
    merge_firms,
    review_queue,
    unmerge_firms,
)
from ketnoi.api.storage._intake_categories import register_categories
from ketnoi.api.storage._resolution import ACCEPT, REVIEW

__all__ = ["intake_upload", "router"]

router = APIRouter(prefix="/v1/resolution", tags=["resolution"])

#: A review's or a merge's id in a path.
RowId = Annotated[int, fastapi.Path(ge=1, le=MAX_ROW_ID)]
_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"model": Error},
    403: {"model": Error},
    422: {"model": ImportRefused},
}


def _mapping_file(engine: Engine, source: str) -> Path:
    # The source name is the user's: only its safe characters make the file's name.
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in source).strip(".") or "list"
    return data_dir_of(engine) / "mappings" / f"{safe}.json"


def intake_upload(
    engine: Engine,
    data: bytes,
    label: str,
    *,
    source: str,
    role: str,
    accept: float,
    review: float,
    actor: KeyInfo | str,
) -> dict[str, Any] | JSONResponse:
    """Check, read and resolve an uploaded list; the 422 answer where it cannot be loaded."""
    folder = upload_folder()
    try:
        try:
            path = unpack_upload(data, label, folder)
        except Refused as exc:
            return refusal(f"{exc.detail}; nothing was loaded", list(exc.problems))
        if path.suffix.lower() != ".xlsx":
            problem = graph.Problem(label, None, None, "expected an .xlsx workbook")
            return refusal("the upload is not a workbook; nothing was loaded", [problem])
        saved = _mapping_file(engine, source)
        mappings, problems = graph.load_mappings(saved) if saved.exists() else ({}, [])
        result = graph.read_intake(path, source, mappings or None)
        problems = [*problems, *result.problems]
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            return refusal(f"{len(errors)} problem(s) in {label}; nothing was loaded", problems)
        try:
            summary = intake_records(
                engine,
                result.records,
                actor=actor,
                file=label,
                role=role,
                accept=accept,
                review=review,
            )
        except graph.DatasetError as exc:
            return refusal(
                "the register with this list would not be valid; nothing was loaded",
                list(exc.problems),
            )
        if not saved.exists():  # the mapping used, for this source's next list
            saved.parent.mkdir(parents=True, exist_ok=True)
            graph.save_mappings(result.mappings, saved)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        **summary.__dict__,
        "counts": summary.counts(),
        "mapping": json.loads(saved.read_text(encoding="utf-8")),
        "categories": graph.category_choices(result.records, register_categories(engine)),
        "warnings": [problem_json(p) for p in problems],
    }


@router.post(
    "/intake",
    response_model=IntakeResult,
    responses={**_REFUSED, 413: {"model": Error}, 415: {"model": Error}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
    summary="Bring an officer's list into the register",
)
async def intake(
    request: Request,
    key: StaffKey,
    engine: EngineDep,
    source: Annotated[
        str, Query(min_length=1, max_length=MAX_ID, description="The list's source.")
    ],
    role: Annotated[
        str,
        Query(pattern="^(supplier|buyer|both)$", description="The role of the firms it creates."),
    ] = "supplier",
    accept: Annotated[float, Query(ge=0, le=1, description="Match without asking.")] = ACCEPT,
    review: Annotated[float, Query(ge=0, le=1, description="Ask a person at or above.")] = REVIEW,
    filename: Annotated[
        str | None, Query(max_length=200, description="The file's name, for a raw body.")
    ] = None,
) -> Any:
    """Store every row of an ``.xlsx`` list as a source record and resolve it (staff).

    Each record is matched to a firm (the same record before, the tax code, a person's earlier
    answer, or a score at or above ``accept`` never against a conflicting tax code), proposed
    for review (between ``review`` and ``accept``), or made a new firm. All or nothing. Rows
    with products in free text come back with suggested categories and HS codes, scored, for a
    person to confirm (``ketnoi intake`` keeps the confirmed ones).
    """
    data, label = await read_upload(request, filename)
    return await run_in_threadpool(
        intake_upload,
        engine,
        data,
        label,
        source=source,
        role=role,
        accept=accept,
        review=review,
        actor=key,
    )


@router.get("/reviews", response_model=list[ReviewPublic], summary="The review queue")
def reviews(
    engine: EngineDep,
    key: StaffKey,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Pairs waiting for a person, oldest first, the record and the firm side by side (staff)."""
    return review_queue(engine, limit)


@router.get("/reviews/{review_id}", response_model=ReviewPublic, summary="One review")
def review(review_id: RowId, engine: EngineDep, key: StaffKey) -> dict[str, Any]:
    """A review, open or answered (staff)."""
    return get_review(engine, review_id)


@router.post(
    "/reviews/{review_id}/decision",
    response_model=DecisionResult,
    responses={404: {"model": Error}, 409: {"model": Error}},
    summary="Answer a review",
)
def decide(
    review_id: RowId,
    body: DecisionCreate,
    engine: EngineDep,
    key: StaffKey,
) -> dict[str, Any]:
    """``match`` or ``distinct``, remembered so that a re-upload never asks again (staff)."""
    return decide_review(engine, review_id, body.decision, key, role=body.role)


def _merge_answer(done: Any) -> MergePublic:
    return MergePublic.model_validate(done.__dict__)


@router.post(
    "/merges",
    response_model=MergePublic,
    status_code=status.HTTP_201_CREATED,
    responses={404: {"model": Error}, 409: {"model": Error}, 422: {"model": ImportRefused}},
    summary="Merge two firms",
)
def merge(body: MergeCreate, engine: EngineDep, key: StaffKey) -> Any:
    """Move everything of ``absorbed_id`` to ``survivor_id``; the absorbed id becomes an alias
    (staff). Undo with ``POST /v1/resolution/merges/{merge_id}/unmerge``."""
    try:
        done = merge_firms(engine, body.survivor_id, body.absorbed_id, key, reason=body.reason)
    except graph.DatasetError as exc:
        return refusal(
            "the merged register would not be valid; nothing was changed", list(exc.problems)
        )
    return _merge_answer(done)


@router.get("/merges/{merge_id}", response_model=MergePublic, summary="One merge")
def merge_record(merge_id: RowId, engine: EngineDep, key: StaffKey) -> MergePublic:
    """A merge and what it moved (staff)."""
    return _merge_answer(get_merge(engine, merge_id))


@router.post(
    "/merges/{merge_id}/unmerge",
    response_model=MergePublic,
    responses={404: {"model": Error}, 409: {"model": Error}, 422: {"model": ImportRefused}},
    summary="Undo a merge",
)
def unmerge(merge_id: RowId, engine: EngineDep, key: StaffKey) -> Any:
    """Put back exactly what the merge moved; writes made since are kept (staff)."""
    try:
        done = unmerge_firms(engine, merge_id, key)
    except graph.DatasetError as exc:
        return refusal("the register would not be valid; nothing was changed", list(exc.problems))
    return _merge_answer(done)
