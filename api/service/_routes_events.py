"""Matchmaking events: participants, slots, the schedule, locks and exports.

Staff create events (the served model scores the pairs, the live database says who is linked
and who declined), lock meetings and re-run the schedule; staff and analysts read events, their
slot-by-table grid and every agenda (JSON, CSV or XLSX); a firm key reads its own agenda only.
How the schedule is made is in :mod:`ketnoi.programme._events` and docs/events.md.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Path, Query, status
from fastapi.responses import HTMLResponse

from ketnoi import programme
from ketnoi.api._agendas import render_agendas
from ketnoi.api.service._access import ensure_own_firm
from ketnoi.api.service._deps import (
    AnyKey,
    DatasetDep,
    EngineDep,
    IdPath,
    PageQuery,
    ReaderKey,
    ServedDep,
    StaffKey,
)
from ketnoi.api.service._files import (
    FILE_RESPONSES,
    FileOptions,
    FileQuery,
    json_or_file,
    records,
)
from ketnoi.api.service._holder import ServedModel
from ketnoi.api.service._schemas import MAX_ROW_ID, Error, Page
from ketnoi.api.service._schemas_events import (
    AgendaPublic,
    EventCreate,
    EventLocks,
    EventPublic,
    EventSummary,
    Meeting,
)
from ketnoi.api.storage import (
    EventRecord,
    Invalid,
    NotFound,
    create_event,
    get_event,
    list_events,
    update_event,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/events", tags=["events"])

EventId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Error},
    403: {"model": Error},
    404: {"model": Error},
    422: {"model": Error},
}
_MEETING_COLUMNS = list(Meeting.model_fields)


# -- making and reading schedules ---------------------------------------------------------------
def _solve(
    spec: programme.EventSpec,
    method: str,
    served: ServedModel,
    dataset: Any,
    published: pd.DataFrame | None = None,
) -> tuple[programme.EventSpec, dict[str, Any]]:
    try:
        result = programme.schedule_event(
            spec, served.matcher, dataset, method=method, where="request", published=published
        )
    except programme.EventError as exc:
        raise Invalid(str(exc)) from None
    meetings = json.loads(result.meetings.to_json(orient="records", force_ascii=False))
    payload = {
        "summary": result.summary(),
        "meetings": meetings,
        "names": result.names,
        "method": method,
    }
    payload["unmet"] = json.loads(result.unmet.to_json(orient="records", force_ascii=False))
    if result.changes is not None:
        payload["changes"] = json.loads(result.changes.to_json(orient="records", force_ascii=False))
    return result.spec, payload


def _fingerprint(served: ServedModel) -> str:
    return str(getattr(served.matcher, "data_fingerprint_", None) or served.fingerprint)


def _found(engine: Any, event_id: int) -> EventRecord:
    saved = get_event(engine, event_id)
    if saved is None:
        raise NotFound(f"no event with id {event_id}")
    return saved


def _summary(saved: EventRecord) -> dict[str, Any]:
    return {
        "id": saved.id,
        "name": saved.name,
        "created_at": saved.created_at,
        "updated_at": saved.updated_at,
        "created_by": saved.created_by,
        "model_version": saved.model_version,
        "data_fingerprint": saved.data_fingerprint,
        "summary": saved.schedule["summary"],
    }


def _public(saved: EventRecord) -> dict[str, Any]:
    return {
        **_summary(saved),
        "spec": saved.spec,
        "meetings": saved.schedule["meetings"],
        "changes": saved.schedule.get("changes") or [],
        "unmet": saved.schedule.get("unmet") or [],
    }


def _meetings(saved: EventRecord) -> pd.DataFrame:
    return pd.DataFrame(saved.schedule["meetings"], columns=_MEETING_COLUMNS)


def _agendas(saved: EventRecord, firm_id: str | None = None) -> pd.DataFrame:
    spec = programme.EventSpec.from_dict(saved.spec)
    names = saved.schedule.get("names") or {}
    return programme.event_agendas(spec, _meetings(saved), firm_id, names=names)


# -- routes -------------------------------------------------------------------------------------
@router.post(
    "",
    response_model=EventPublic,
    status_code=status.HTTP_201_CREATED,
    responses={**_ERRORS, 503: {"model": Error}},
    summary="Schedule and save an event",
)
def create(
    body: EventCreate, key: StaffKey, served: ServedDep, dataset: DatasetDep, engine: EngineDep
) -> Any:
    """Schedule an event with the served model on the live data, and save it (staff).

    Firms already linked and pairs with a ``declined`` outcome are not proposed unless
    ``include_linked`` or ``include_declined``; locked meetings are always held. A 422 names
    the participant or lock at fault (``request.participants:3: side: ...``).
    """
    spec = programme.EventSpec(
        participants=tuple(
            programme.Participant(p.firm_id, p.side, tuple(p.languages), p.max_meetings)
            for p in body.participants
        ),
        slots=body.slots,
        tables=body.tables,
        max_meetings=body.max_meetings,
        interpreters=body.interpreters,
        locks=tuple(
            programme.MeetingLock(lk.buyer_id, lk.supplier_id, lk.slot) for lk in body.locks
        ),
        slot_labels=tuple(body.slot_labels),
        include_linked=body.include_linked,
        include_declined=body.include_declined,
        name=body.name,
        min_score=body.min_score,
        lunch_after=body.lunch_after,
        lunch_label=body.lunch_label,
    )
    resolved, payload = _solve(spec, body.method, served, dataset)
    event_id = create_event(
        engine,
        name=body.name,
        spec=resolved.to_dict(),
        schedule=payload,
        model_version=served.version,
        data_fingerprint=_fingerprint(served),
        actor=key,
    )
    return _public(_found(engine, event_id))


@router.get("", response_model=Page[EventSummary], responses=_ERRORS, summary="List events")
def list_all(engine: EngineDep, key: ReaderKey, paging: PageQuery) -> dict[str, Any]:
    """Saved events, newest first, without their meetings (staff, analyst)."""
    rows, total = list_events(engine, paging.page, paging.page_size)
    return paging.answer([_summary(r) for r in rows], total)


@router.get(
    "/{event_id}",
    response_model=EventPublic,
    responses={**_ERRORS, **FILE_RESPONSES},
    summary="Get an event (JSON, CSV or XLSX)",
)
def get_one(
    event_id: EventId, engine: EngineDep, key: ReaderKey, format: FileQuery = FileOptions()
) -> Any:
    """An event and its meetings (staff, analyst). CSV: the meetings; XLSX: sheets
    ``meetings``, ``agendas`` and ``grid``."""
    saved = _found(engine, event_id)

    def sheets() -> dict[str, pd.DataFrame]:
        spec = programme.EventSpec.from_dict(saved.spec)
        meetings = _meetings(saved)
        lang = format.lang or "en"
        return {
            "meetings": meetings,
            "agendas": programme.report_in_language(_agendas(saved), None, lang),
            "grid": programme.event_grid(spec, meetings, lang),
        }

    return json_or_file(format, f"event-{event_id}", sheets, lambda: _public(saved))


@router.get(
    "/{event_id}/grid",
    responses={**_ERRORS, **FILE_RESPONSES},
    summary="The slot-by-table grid (JSON, CSV or XLSX)",
)
def get_grid(
    event_id: EventId, engine: EngineDep, key: ReaderKey, format: FileQuery = FileOptions()
) -> Any:
    """One row per slot, one column per table, ``buyer_id / supplier_id`` in each cell held
    (staff, analyst)."""
    saved = _found(engine, event_id)
    spec = programme.EventSpec.from_dict(saved.spec)
    frame = programme.event_grid(spec, _meetings(saved))
    return json_or_file(
        format,
        f"event-{event_id}-grid",
        lambda: {"grid": programme.event_grid(spec, _meetings(saved), format.lang or "en")},
        lambda: records(frame),
    )


@router.get(
    "/{event_id}/agendas/{firm_id}",
    response_model=AgendaPublic,
    responses={**_ERRORS, **FILE_RESPONSES},
    summary="One firm's agenda (JSON, CSV or XLSX)",
)
def get_agenda(
    event_id: EventId,
    firm_id: IdPath,
    engine: EngineDep,
    key: AnyKey,
    format: FileQuery = FileOptions(),
) -> Any:
    """A participant's meetings, slot by slot (staff, analysts, and the firm's own key)."""
    ensure_own_firm(key, firm_id)
    saved = _found(engine, event_id)
    if firm_id not in {p["firm_id"] for p in saved.spec["participants"]}:
        raise NotFound(f"'{firm_id}' does not take part in event {event_id}")
    frame = _agendas(saved, firm_id)
    return json_or_file(
        format,
        f"event-{event_id}-{firm_id}",
        lambda: {"agenda": programme.report_in_language(frame, None, format.lang or "en")},
        lambda: {"event_id": event_id, "firm_id": firm_id, "items": records(frame)},
    )


_HTML: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {}}}}


@router.get(
    "/{event_id}/agendas/{firm_id}/print",
    response_class=HTMLResponse,
    responses={**_ERRORS, **_HTML},
    summary="One firm's printable agenda (HTML, one A4 page)",
)
def print_agenda(
    event_id: EventId,
    firm_id: IdPath,
    engine: EngineDep,
    key: AnyKey,
    served: ServedDep,
    dataset: DatasetDep,
) -> HTMLResponse:
    """The firm's agenda to print, in its language: times, tables, partners' names and
    profiles, why they meet, interpreters, the lunch break (staff, analysts, and the firm's own
    key). A supplier's copy does not say a buyer's confidential demand; private values of the
    other firm are banded; no score is shown."""
    ensure_own_firm(key, firm_id)
    saved = _found(engine, event_id)
    if firm_id not in {p["firm_id"] for p in saved.spec["participants"]}:
        raise NotFound(f"'{firm_id}' does not take part in event {event_id}")
    spec = programme.EventSpec.from_dict(saved.spec)
    pages = programme.firm_agendas(
        spec,
        _meetings(saved),
        served.matcher,
        dataset,
        firm_ids=[firm_id],
        names=saved.schedule.get("names") or {},
    )
    return HTMLResponse(render_agendas(pages, lang=pages[0].lang))


@router.get(
    "/{event_id}/print",
    response_class=HTMLResponse,
    responses={**_ERRORS, **_HTML},
    summary="Every agenda and the organisers' grid, to print (HTML)",
)
def print_event(
    event_id: EventId,
    engine: EngineDep,
    key: ReaderKey,
    served: ServedDep,
    dataset: DatasetDep,
    lang: Annotated[str, Query(pattern="^(en|vi)$")] = "vi",
) -> HTMLResponse:
    """Each participant's agenda on its own A4 page (each in the firm's language), then the
    slot-by-table grid with names for the organisers (staff, analyst)."""
    saved = _found(engine, event_id)
    spec = programme.EventSpec.from_dict(saved.spec)
    meetings = _meetings(saved)
    pages = programme.firm_agendas(
        spec, meetings, served.matcher, dataset, names=saved.schedule.get("names") or {}
    )
    grid = programme.event_grid(spec, meetings, lang)
    return HTMLResponse(render_agendas(pages, grid=grid, lang=lang))


def _reschedule(
    saved: EventRecord,
    spec: programme.EventSpec,
    action: str,
    key: Any,
    served: ServedModel,
    dataset: Any,
    engine: Any,
) -> Any:
    method = saved.schedule.get("method", "optimal")
    # The agendas of an optimised event may be out: its meetings stay where they are unless
    # the change forces them out, and the summary counts what moved.
    published = _meetings(saved) if method == "optimal" else None
    resolved, payload = _solve(spec, method, served, dataset, published)
    update_event(
        engine,
        saved.id,
        spec=resolved.to_dict(),
        schedule=payload,
        model_version=served.version,
        data_fingerprint=_fingerprint(served),
        action=action,
        actor=key,
    )
    return _public(_found(engine, saved.id))


@router.post(
    "/{event_id}/locks",
    response_model=EventPublic,
    responses={**_ERRORS, 503: {"model": Error}},
    summary="Lock or unlock meetings, and schedule again",
)
def lock(
    event_id: EventId,
    body: EventLocks,
    key: StaffKey,
    served: ServedDep,
    dataset: DatasetDep,
    engine: EngineDep,
) -> Any:
    """Lock meetings (``add``: a pair, optionally a slot) or unlock them (``remove``), then
    schedule the event again (staff). Locked meetings are always held; locks that cannot all be
    held are a 422 and change nothing."""
    saved = _found(engine, event_id)
    spec = programme.EventSpec.from_dict(saved.spec).with_locks(
        add=[programme.MeetingLock(lk.buyer_id, lk.supplier_id, lk.slot) for lk in body.add],
        remove=[(p.buyer_id, p.supplier_id) for p in body.remove],
    )
    return _reschedule(saved, spec, "lock", key, served, dataset, engine)


@router.post(
    "/{event_id}/schedule",
    response_model=EventPublic,
    responses={**_ERRORS, 503: {"model": Error}},
    summary="Schedule an event again",
)
def reschedule(
    event_id: EventId, key: StaffKey, served: ServedDep, dataset: DatasetDep, engine: EngineDep
) -> Any:
    """Schedule the event again with the model serving now and the data as they are (staff)."""
    saved = _found(engine, event_id)
    spec = programme.EventSpec.from_dict(saved.spec)
    return _reschedule(saved, spec, "reschedule", key, served, dataset, engine)
