"""The event planner: events, the grid, locks and re-planning, agendas, and jobs' progress.

Staff plan an event (participants with their side and the languages of the people they send,
slots, tables, interpreters), lock a meeting from the grid or unlock it, and plan again; an
event planned before keeps every published meeting that can stay (the JSON routes' stable
re-planning, :mod:`ketnoi.programme._replan`). An event with more participants than
``KETNOI_EVENT_JOB_PARTICIPANTS`` is scheduled as a job; its page shows the job's progress,
asking for it again every second (htmx), and moves on to the event when it is done.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import ValidationError

from ketnoi import programme
from ketnoi.api.pages._web import (
    Form,
    PageContext,
    PageRoute,
    ReaderPage,
    SignedInPage,
    StaffPage,
    page_count,
    posted_form,
)
from ketnoi.api.service import _routes_events
from ketnoi.api.service._deps import IdPath, Paging, get_dataset, get_served
from ketnoi.api.service._files import FileOptions
from ketnoi.api.service._jobs import JobResult, Progress, job_public, visible_job
from ketnoi.api.service._schemas import MAX_PAGE, MAX_ROW_ID
from ketnoi.api.service._schemas_events import EventCreate, EventLocks
from ketnoi.api.service._schemas_jobs import JobId
from ketnoi.api.storage import Invalid

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FormDep = Annotated[Form, Depends(posted_form())]
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
_SEPARATORS = re.compile(r"[\s,;]+")
#: Where a finished job's result is shown in the workbench (its API address -> a page).
_RESULT_PAGES = re.compile(r"^/v1/(events|match-lists)/(\d+)$")


def _invalid(exc: ValidationError) -> Invalid:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return Invalid(f"{where}: {first.get('msg', 'invalid')}" if where else str(first["msg"]))


def _participants(form: Form, t: Callable[..., str]) -> list[dict[str, Any]]:
    """The participants field (``ID`` or ``ID:buyer``/``ID:supplier``) and the languages
    field (a line per firm: ``ID: ja, en``), as ``POST /v1/events`` takes them."""
    order: dict[str, dict[str, Any]] = {}
    for token in _SEPARATORS.split(form.get("participants")):
        if not token:
            continue
        firm, _, side = token.partition(":")
        if side not in ("", "buyer", "supplier"):
            raise Invalid(t("bad_participant", text=token))
        order[firm] = {"firm_id": firm, "side": side}
    for line in form.get("languages").splitlines():
        if not line.strip():
            continue
        firm, sep, codes = line.partition(":")
        firm = firm.strip()
        if not sep or firm not in order:
            raise Invalid(t("bad_languages", text=line.strip()))
        order[firm]["languages"] = [c.lower() for c in _SEPARATORS.split(codes) if c]
    return list(order.values())


# -- running the optimiser: in the request, or as a job when the event is large ----------------
def _scheduled(
    page: PageContext, size: int, kind: str, work: Callable[[], int], flash: str = ""
) -> Response:
    """Run ``work`` (which saves an event and returns its id) and show the event; with more
    than ``event_job_participants`` participants, as a job whose progress the page shows."""
    assert page.key is not None
    settings = page.request.app.state.settings
    if size <= settings.event_job_participants:
        event_id = work()
        page.session.flash = flash
        return page.redirect(f"/events/{event_id}")

    def job(progress: Progress) -> JobResult:
        progress.step("schedule")
        event_id = work()
        return JobResult(body={"id": event_id}, url=f"/v1/events/{event_id}")

    runner = page.request.app.state.jobs
    started = runner.submit(kind, page.key, job, params={"participants": size}, step="schedule")
    return page.redirect(f"/jobs/{started.id}")


@router.get("/events")
def events(page: ReaderPage, p: PageNumber = 1) -> Response:
    """Saved events (``GET /v1/events``) and, for staff, a form to plan one."""
    assert page.key is not None
    found = _routes_events.list_all(page.engine, page.key, Paging(p, 20))
    return page.render("events.html", found=found, pages=page_count(found))


@router.post("/events")
def plan_event(page: StaffPage, form: FormDep) -> Response:
    """Schedule and save an event (``POST /v1/events``)."""
    assert page.key is not None
    served = get_served(page.request.app.state.holder)
    try:
        body = EventCreate(
            name=form.get("name"),
            participants=_participants(form, page.t),  # type: ignore[arg-type]
            slots=int(form.get("slots") or 0),
            tables=int(form.get("tables") or 0),
            max_meetings=int(form.get("max_meetings") or 0),
            interpreters=int(form.get("interpreters") or 0),
        )
    except ValidationError as exc:
        raise _invalid(exc) from None
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    key, engine = page.key, page.engine
    dataset = get_dataset(engine)

    def work() -> int:
        return int(_routes_events.create(body, key, served, dataset, engine)["id"])

    return _scheduled(page, len(body.participants), "event", work)


def _languages(spec: dict[str, Any], dataset: Any) -> dict[str, tuple[str, ...]]:
    """The languages each participant meets in, as the scheduler reads them."""
    firms = dataset.firms.set_index("firm_id", drop=False)
    out = {}
    for p in programme.EventSpec.from_dict(spec).participants:
        row = firms.loc[p.firm_id].to_dict() if p.firm_id in firms.index else {}
        out[p.firm_id] = programme.participant_languages(p, row)
    return out


@router.get("/events/{event_id}")
def event(page: ReaderPage, event_id: RowId) -> Response:
    """An event: participants and their languages, the meetings (staff lock or unlock each),
    what the last re-planning moved, the slot-by-table grid and each participant's agenda."""
    assert page.key is not None
    saved = _routes_events.get_one(event_id, page.engine, page.key, FileOptions())
    grid = _routes_events.get_grid(event_id, page.engine, page.key, FileOptions())
    languages = _languages(saved["spec"], get_dataset(page.engine))
    return page.render("event.html", event=saved, grid=grid, languages=languages)


@router.post("/events/{event_id}/locks")
def lock_meeting(page: StaffPage, event_id: RowId, form: FormDep) -> Response:
    """Lock a meeting in its slot, or unlock it, and plan again keeping what was published
    (``POST /v1/events/{id}/locks``)."""
    assert page.key is not None
    pair = {"buyer_id": form.get("buyer_id"), "supplier_id": form.get("supplier_id")}
    try:
        if form.get("action") == "unlock":
            body = EventLocks(remove=[pair])  # type: ignore[list-item]
        else:
            slot = int(form.get("slot")) if form.get("slot") else None
            body = EventLocks(add=[{**pair, "slot": slot}])  # type: ignore[list-item]
    except ValidationError as exc:
        raise _invalid(exc) from None
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    return _replanned(page, event_id, "event-lock", body)


@router.post("/events/{event_id}/schedule")
def replan(page: StaffPage, event_id: RowId, form: FormDep) -> Response:
    """Plan the event again with the model and data of now (``POST /v1/events/{id}/schedule``),
    keeping every published meeting that can stay."""
    return _replanned(page, event_id, "event-replan", None)


def _replanned(page: PageContext, event_id: int, kind: str, locks: EventLocks | None) -> Response:
    assert page.key is not None
    key, engine = page.key, page.engine
    served = get_served(page.request.app.state.holder)
    saved = _routes_events.get_one(event_id, engine, key, FileOptions())
    dataset = get_dataset(engine)

    def work() -> int:
        if locks is None:
            _routes_events.reschedule(event_id, key, served, dataset, engine)
        else:
            _routes_events.lock(event_id, locks, key, served, dataset, engine)
        return event_id

    size = len(saved["spec"]["participants"])
    return _scheduled(page, size, kind, work, page.t("replanned"))


@router.get("/events/{event_id}/agendas/{firm_id}")
def agenda(page: SignedInPage, event_id: RowId, firm_id: IdPath) -> Response:
    """One participant's agenda, made to print (staff, analysts and the firm itself)."""
    assert page.key is not None
    found = _routes_events.get_agenda(event_id, firm_id, page.engine, page.key, FileOptions())
    saved = (
        _routes_events.get_one(event_id, page.engine, page.key, FileOptions())
        if page.key.role != "firm"
        else None
    )
    return page.render("agenda.html", agenda=found, event=saved, firm_id=firm_id)


# -- jobs --------------------------------------------------------------------------------------
@router.get("/jobs/{job_id}")
def job(page: SignedInPage, job_id: JobId) -> Response:
    """A job's progress (``GET /v1/jobs/{id}``): htmx asks again every second; once finished
    the page moves on to the result (an event, a match list)."""
    assert page.key is not None
    runner = page.request.app.state.jobs
    found = job_public(visible_job(page.engine, page.key, job_id), runner)
    done = _RESULT_PAGES.match(found["result_url"] or "")
    if found["state"] == "finished" and done:
        target = f"/{done[1]}/{done[2]}"
        if page.partial:
            page.headers["HX-Redirect"] = target
            return page.render("_job.html", job=found)
        return page.redirect(target)
    template = "_job.html" if page.partial else "job.html"
    return page.render(template, job=found)
