"""Signing in and out, the language switch, the home page and the audit log."""

from __future__ import annotations

from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from ketnoi.api.pages._i18n import LANGS
from ketnoi.api.pages._session import IDLE_SECONDS
from ketnoi.api.pages._web import (
    AnyPage,
    Form,
    PageRoute,
    ReaderPage,
    SignedInPage,
    page_count,
    posted_form,
    safe_next,
    sessions_of,
)
from ketnoi.api.service import _routes_firms, _routes_model, _routes_programme
from ketnoi.api.service._deps import Paging, current_key, get_dataset
from ketnoi.api.service._files import FileOptions
from ketnoi.api.service._schemas import MAX_PAGE

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FormDep = Annotated[Form, Depends(posted_form())]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]

#: The indicators the home page charts, in this order.
INDICATORS = (
    "local_supporting_firms",
    "certified_share",
    "tier_1_firms",
    "tier_2_firms",
    "tier_3plus_firms",
    "new_links",
    "new_local_links",
    "localisation_rate",
    "linked_rate",
)
SHARES = {"certified_share", "localisation_rate", "linked_rate"}


@router.get("/sign-in")
def sign_in_page(page: AnyPage, next: Annotated[str, Query(max_length=500)] = "/") -> Response:
    if page.key is not None:
        return page.redirect(safe_next(next))
    return page.render(
        "sign_in.html", next=safe_next(next), failed=False, hours=IDLE_SECONDS // 3600
    )


@router.post("/sign-in")
def sign_in(page: AnyPage, form: FormDep) -> Response:
    """Check the key as the API does; a good one starts a new session (a new id)."""
    plaintext = form.get("api_key")
    try:
        key = current_key(page.engine, None, plaintext)
    except HTTPException:
        key = None
    if key is None or not plaintext:
        return page.render(
            "sign_in.html",
            401,
            next=safe_next(form.get("next")),
            failed=True,
            hours=IDLE_SECONDS // 3600,
        )
    page.session = sessions_of(page.request).sign_in(page.engine, page.session, key)
    page.fresh, page.key = True, key
    return page.redirect(safe_next(form.get("next")))


@router.post("/sign-out")
def sign_out(page: AnyPage, form: FormDep) -> Response:
    store = sessions_of(page.request)
    store.drop(page.engine, page.session)
    page.session, page.fresh, page.key = store.new(page.engine, lang=page.lang), True, None
    return page.redirect("/sign-in?signed_out=1")


@router.post("/lang")
def switch_language(page: AnyPage, form: FormDep) -> Response:
    """Remember the language in the session and in a cookie (for the next session too)."""
    lang = form.get("lang")
    if lang in LANGS:
        page.session.lang, page.lang, page.lang_changed = lang, lang, True
    return page.redirect(safe_next(form.get("next")))


def _indicator_cards(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_name: OrderedDict[str, list[dict[str, Any]]] = OrderedDict((n, []) for n in INDICATORS)
    for row in items:
        if row["indicator"] in by_name:
            by_name[row["indicator"]].append(row)
    cards = []
    for name, rows in by_name.items():
        if not rows:
            continue
        rows = sorted(rows, key=lambda r: r["year"])
        cards.append({"name": name, "share": name in SHARES, "points": rows, "last": rows[-1]})
    return cards


@router.get("/")
def home(page: SignedInPage) -> Response:
    """Staff and analysts: indicators, the model, recent activity. A firm: its portal."""
    key = page.key
    assert key is not None
    if key.role == "firm":
        firm = _routes_firms.get_firm(key.firm_id or "", page.engine, key).model_dump()
        return page.render("portal.html", firm=firm)
    holder = page.request.app.state.holder
    model = _routes_model.model_info(holder, key)
    try:
        dataset = get_dataset(page.engine)
        report = _routes_programme.indicators(key, dataset, format=FileOptions())
        cards = _indicator_cards(report["items"])
    except HTTPException:
        cards = []
    activity = _routes_model.audit_log(page.engine, key, Paging(1, 8))["items"]
    return page.render("home.html", cards=cards, model=model, activity=activity)


@router.get("/audit")
def audit(
    page: ReaderPage,
    p: PageNumber = 1,
    entity: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Every write, newest first (staff and analysts, as ``GET /v1/audit``)."""
    assert page.key is not None
    found = _routes_model.audit_log(page.engine, page.key, Paging(p, 50), entity or None)
    return page.render("audit.html", found=found, pages=page_count(found), entity=entity or "")
