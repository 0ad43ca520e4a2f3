"""Match lists: top recommendations for many firms at once, to hand out at a trade fair.

Staff create match lists and pin or block pairs; staff and analysts read them (JSON, CSV or
XLSX). Firm keys get 403 on every match-list route: a list shows many firms' recommendations
and reasons, which is more than one firm may see. How a list is derived (cap, declined pairs,
pins, blocks) is :func:`ketnoi.matcher.build_match_list`, the same as ``ketnoi match-list``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from ketnoi import matcher
from ketnoi.api.service._deps import (
    EngineDep,
    PageQuery,
    ReaderKey,
    ServedDep,
    SettingsDep,
    StaffKey,
)
from ketnoi.api.service._files import FileOptions, FileQuery, table_file
from ketnoi.api.service._jobs import JobResult, Progress, RunnerDep, accepted
from ketnoi.api.service._match_lists import (
    MATCH_LIST_STEP,
    create_match_list,
    get_match_list,
    list_match_lists,
    match_list_sheets_of,
    update_pairs,
)
from ketnoi.api.service._routes_jobs import ACCEPTED
from ketnoi.api.service._schemas import (
    MAX_ROW_ID,
    Error,
    MatchListCreate,
    MatchListPairs,
    MatchListPublic,
    MatchListSummary,
    Page,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/match-lists", tags=["match lists"])

ListId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Error},
    403: {"model": Error},
    404: {"model": Error},
    422: {"model": Error},
}


def match_list_spec(body: MatchListCreate) -> matcher.MatchListSpec:
    """The matcher's spec of a match list asked for (the workbench's preview reads it too)."""
    return matcher.MatchListSpec(
        buyer_ids=tuple(body.buyer_ids),
        supplier_ids=tuple(body.supplier_ids),
        k=body.k,
        category=body.category,
        park=body.park,
        certification=body.certification,
        max_per_supplier=body.max_per_supplier,
        lang=body.lang,
        pins=tuple((p.buyer_id, p.supplier_id) for p in body.pins),
        blocks=tuple((p.buyer_id, p.supplier_id) for p in body.blocks),
    )


@router.post(
    "",
    response_model=MatchListPublic,
    status_code=status.HTTP_201_CREATED,
    responses={**_ERRORS, **ACCEPTED, 503: {"model": Error}},
    summary="Create a match list",
)
def create(
    body: MatchListCreate,
    key: StaffKey,
    served: ServedDep,
    engine: EngineDep,
    settings: SettingsDep,
    runner: RunnerDep,
) -> Any:
    """Derive a match list with the served model and save it (staff).

    Each of ``buyer_ids`` gets its top-``k`` new suppliers (with the filters; no supplier on
    more than ``max_per_supplier`` buyers' lists, taken in rank order across buyers), each of
    ``supplier_ids`` its top-``k`` buyers. Pairs declined in an outcome and ``blocks`` are left
    out; ``pins`` come first, marked pinned. The list records the model version and the data
    fingerprint that made it.

    A list for more than ``KETNOI_MATCH_LIST_JOB_FIRMS`` (50) firms is made as a job: ``202``
    with ``Location: /v1/jobs/{id}``; the job's ``result_url`` is the saved list.
    """
    if len(body.buyer_ids) + len(body.supplier_ids) > settings.match_list_job_firms:
        spec = match_list_spec(body)

        def work(progress: Progress) -> JobResult:
            progress.step(MATCH_LIST_STEP)
            made = create_match_list(
                engine, served, spec, label=body.label, actor=key, progress=progress
            )
            return JobResult(body={"id": made}, url=f"/v1/match-lists/{made}")

        return accepted(runner.submit("match-list", key, work, params=spec.params()), runner)
    list_id = create_match_list(engine, served, match_list_spec(body), label=body.label, actor=key)
    return get_match_list(engine, list_id)


@router.get(
    "", response_model=Page[MatchListSummary], responses=_ERRORS, summary="List match lists"
)
def list_lists(engine: EngineDep, key: ReaderKey, paging: PageQuery) -> dict[str, Any]:
    """Saved match lists, newest first, without their rows (staff, analyst)."""
    found = list_match_lists(engine, paging.page, paging.page_size)
    return paging.answer(found.rows, found.total)


@router.get(
    "/{list_id}",
    response_model=MatchListPublic,
    responses={
        **_ERRORS,
        200: {
            "description": "The list as JSON, CSV (UTF-8 with a BOM) or XLSX.",
            "content": {"text/csv": {}, XLSX: {}},
        },
    },
    summary="Get a match list (JSON, CSV or XLSX)",
)
def get_list(
    list_id: ListId, engine: EngineDep, key: ReaderKey, format: FileQuery = FileOptions()
) -> Any:
    """One match list with firm names and reasons in plain words (staff, analyst).

    csv: the list, reasons joined by ' | '; xlsx: the list and an "about" sheet. Files are in
    the list's language unless ``lang`` says otherwise."""
    saved = get_match_list(engine, list_id)
    if format.format == "json":
        return saved
    options = format.in_language(saved["params"].get("lang", "en"))
    return table_file(match_list_sheets_of(saved, options.lang), options, f"match-list-{list_id}")


def _change(
    kind: str, list_id: int, body: MatchListPairs, key: Any, served: Any, engine: Any
) -> Any:
    add = [(p.buyer_id, p.supplier_id) for p in body.add]
    remove = [(p.buyer_id, p.supplier_id) for p in body.remove]
    update_pairs(engine, served, list_id, kind, add=add, remove=remove, actor=key)
    return get_match_list(engine, list_id)


@router.post(
    "/{list_id}/pins",
    response_model=MatchListPublic,
    responses={**_ERRORS, 409: {"model": Error}, 503: {"model": Error}},
    summary="Pin pairs on a match list",
)
def pin(
    list_id: ListId, body: MatchListPairs, key: StaffKey, served: ServedDep, engine: EngineDep
) -> Any:
    """Pin pairs (``add``) or unpin them (``remove``), then derive the list again with the
    served model (staff). A pinned pair comes first on its firm's list; pinning a blocked pair
    unblocks it."""
    return _change("pins", list_id, body, key, served, engine)


@router.post(
    "/{list_id}/blocks",
    response_model=MatchListPublic,
    responses={**_ERRORS, 409: {"model": Error}, 503: {"model": Error}},
    summary="Block pairs on a match list",
)
def block(
    list_id: ListId, body: MatchListPairs, key: StaffKey, served: ServedDep, engine: EngineDep
) -> Any:
    """Block pairs (``add``) or unblock them (``remove``), then derive the list again with the
    served model (staff). A blocked pair never appears on the list; blocking a pinned pair
    unpins it."""
    return _change("blocks", list_id, body, key, served, engine)
