"""Programme work: match lists, imports, gaps (events: :mod:`._routes_events`).

Readers (staff and analysts) see these pages, staff change things, as in the API; a firm key
reads only its own agenda at an event. Files come from the routes' own writer
(``json_or_file`` and ``table_file``), so a download from a page is the file the API hands out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from ketnoi.api.pages._web import (
    Form,
    PageContext,
    PageRoute,
    ReaderPage,
    StaffPage,
    page_count,
    posted_form,
)
from ketnoi.api.service import (
    _routes_firms,
    _routes_imports,
    _routes_match_lists,
    _routes_programme,
)
from ketnoi.api.service._deps import Paging, get_dataset, get_served
from ketnoi.api.service._files import FileOptions
from ketnoi.api.service._match_lists import create_match_list, preview_match_list
from ketnoi.api.service._schemas import MAX_PAGE, MAX_ROW_ID, FirmPair, MatchListCreate
from ketnoi.api.storage import Invalid

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FormDep = Annotated[Form, Depends(posted_form())]
UploadDep = Annotated[Form, Depends(posted_form(_routes_imports.MAX_UPLOAD_BYTES + 64 * 1024))]
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
FileFormat = Annotated[Literal["csv", "xlsx"], Query()]
FileLang = Annotated[Literal["en", "vi"] | None, Query()]
_SEPARATORS = re.compile(r"[\s,;]+")


def _invalid(exc: ValidationError) -> Invalid:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return Invalid(f"{where}: {first.get('msg', 'invalid')}" if where else str(first["msg"]))


# -- match lists -------------------------------------------------------------------------------
def _saved_lists(page: PageContext, p: int) -> dict[str, Any]:
    assert page.key is not None
    return _routes_match_lists.list_lists(page.engine, page.key, Paging(p, 20))


@router.get("/match-lists")
def match_lists(page: ReaderPage, p: PageNumber = 1) -> Response:
    """Saved match lists (staff and analysts) and, for staff, the builder."""
    found = _saved_lists(page, p)
    return page.render(
        "match_lists.html", found=found, pages=page_count(found), form={}, preview=None
    )


def _buyers_of(page: PageContext, sector: str, park: str) -> list[str]:
    """Every buyer (and two-sided firm) in a sector and/or park, as ``GET /v1/firms`` lists
    them for this key."""
    assert page.key is not None
    found: list[str] = []
    for role in ("buyer", "both"):
        for number in range(1, 11):
            answer = _routes_firms.list_firms(
                page.engine,
                page.key,
                Paging(number, 200),
                role=role,  # type: ignore[arg-type]
                sector=sector or None,
                park=park or None,
            )
            found += [item.firm_id for item in answer["items"]]
            if number * 200 >= answer["total"]:
                break
    return found


def _pairs(text: str, t: Callable[..., str]) -> list[FirmPair]:
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        buyer, sep, supplier = line.partition(":")
        if not sep or not buyer.strip() or not supplier.strip():
            raise Invalid(t("bad_pair", text=line))
        pairs.append(FirmPair(buyer_id=buyer.strip(), supplier_id=supplier.strip()))
    return pairs


def _match_list_body(page: PageContext, form: Form) -> MatchListCreate:
    t = page.t
    buyers = [b for b in _SEPARATORS.split(form.get("buyer_ids")) if b]
    if form.get("sector") or form.get("park"):
        buyers += _buyers_of(page, form.get("sector"), form.get("park"))
    buyers = list(dict.fromkeys(buyers))
    if not buyers:
        raise Invalid(t("no_buyers_chosen"))
    try:
        return MatchListCreate(
            label=form.get("label"),
            buyer_ids=buyers,
            k=int(form.get("k") or 10),
            category=form.get("category") or None,
            certification=form.get("certification") or None,
            max_per_supplier=int(form.get("max_per_supplier"))
            if form.get("max_per_supplier")
            else None,
            lang=form.get("lang") or page.lang,  # type: ignore[arg-type]
            pins=_pairs(form.get("pins"), t),
            blocks=_pairs(form.get("blocks"), t),
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    except ValueError as exc:
        raise Invalid(str(exc)) from None


@router.post("/match-lists")
def build_match_list(page: StaffPage, form: FormDep) -> Response:
    """Preview (nothing saved) or save a match list (``POST /v1/match-lists``)."""
    assert page.key is not None
    served = get_served(page.request.app.state.holder)
    body = _match_list_body(page, form)
    if form.get("action") == "save":
        # The service function the JSON route calls (which hands lists of more than
        # KETNOI_MATCH_LIST_JOB_FIRMS firms to a job; a page waits for it, up to 200 buyers).
        list_id = create_match_list(
            page.engine,
            served,
            _routes_match_lists.match_list_spec(body),
            label=body.label,
            actor=page.key,
        )
        return page.redirect(f"/match-lists/{list_id}")
    rows = preview_match_list(page.engine, served, _routes_match_lists.match_list_spec(body))
    found = _saved_lists(page, 1)
    return page.render(
        "match_lists.html",
        found=found,
        pages=page_count(found),
        form={name: form.get(name) for name in form.fields},
        preview=rows,
    )


@router.get("/match-lists/{list_id}")
def match_list(page: ReaderPage, list_id: RowId) -> Response:
    """One saved list, its rows and reasons, and its files (``GET /v1/match-lists/{id}``)."""
    assert page.key is not None
    saved = _routes_match_lists.get_list(list_id, page.engine, page.key, FileOptions())
    return page.render("match_list.html", saved=saved)


@router.get("/match-lists/{list_id}/file")
def match_list_file(
    page: ReaderPage, list_id: RowId, format: FileFormat = "xlsx", lang: FileLang = None
) -> Response:
    """The list as the API hands it out (``?format=csv|xlsx&lang=``)."""
    assert page.key is not None
    options = FileOptions(format, lang)
    answer: Response = _routes_match_lists.get_list(list_id, page.engine, page.key, options)
    return page.finish(answer)


# -- imports -----------------------------------------------------------------------------------
@router.get("/imports")
def imports(page: StaffPage) -> Response:
    return page.render("imports.html", result=None, refused=None, message="")


def _upload_name(name: str) -> str:
    """The uploaded file's own name, without folders or odd characters (for messages)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"[^\w.\- ]", "_", base).strip(" .")[:100] or "upload"


@router.post("/imports")
def upload(page: StaffPage, form: UploadDep) -> Response:
    """Check an upload and load it only when clean (``POST /v1/imports``'s own function)."""
    assert page.key is not None
    label, data = form.files.get("file", ("", b""))
    if not data:
        return page.render(
            "imports.html", 422, result=None, refused=None, message=page.t("no_file")
        )
    answer = _routes_imports.import_upload(
        page.engine,
        data,
        _upload_name(label),
        replace=form.get("replace") == "true",
        actor=page.key,
    )
    if isinstance(answer, JSONResponse):
        refused = json.loads(bytes(answer.body))
        return page.render("imports.html", 422, result=None, refused=refused, message="")
    return page.render("imports.html", result=answer, refused=None, message="")


# -- gaps --------------------------------------------------------------------------------------
#: The gap reports: page name -> how the programme route is called.
GAP_REPORTS: dict[str, Callable[[Any, Any, FileOptions], Any]] = {
    "localisation": lambda key, data, f: _routes_programme.localisation(
        key, data, gaps_only=True, format=f
    ),
    "near-misses": lambda key, data, f: _routes_programme.near_miss_targets(key, data, format=f),
    "single-sourced": lambda key, data, f: _routes_programme.single_sourced(key, data, format=f),
    "concentration": lambda key, data, f: _routes_programme.concentration(key, data, format=f),
}


@router.get("/gaps")
def gaps(page: ReaderPage) -> Response:
    """Localisation gaps, near-miss suppliers, single-sourced categories, concentration."""
    dataset = get_dataset(page.engine)
    reports = {name: run(page.key, dataset, FileOptions()) for name, run in GAP_REPORTS.items()}
    return page.render("gaps.html", reports=reports)


@router.get("/gaps/{report}/file")
def gap_file(
    page: ReaderPage,
    report: Literal["localisation", "near-misses", "single-sourced", "concentration"],
    format: FileFormat = "xlsx",
) -> Response:
    """A gap report as the API's file, in the page's language."""
    dataset = get_dataset(page.engine)
    answer: Response = GAP_REPORTS[report](page.key, dataset, FileOptions(format, page.lang))
    return page.finish(answer)
