"""Introductions in the workbench: a supplier asks from a masked row; staff read the requests.

A firm's page of buyers shows another firm's confidential demand only as "a buyer (kept
confidential)" with the demand's reference (an HMAC the server alone can read back). Its button
posts that reference to :func:`ask_for_introduction`, which calls the route of
``POST /v1/introductions``; the firm reads "request sent", never the buyer. Staff read every
request, the buyer named, on ``/introductions`` (``GET /v1/introductions``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import ValidationError

from ketnoi.api.pages._web import (
    Form,
    PageRoute,
    SignedInPage,
    StaffPage,
    page_count,
    posted_form,
    safe_next,
)
from ketnoi.api.service import _routes_introductions
from ketnoi.api.service._deps import Paging
from ketnoi.api.service._schemas import MAX_PAGE
from ketnoi.api.storage import Invalid

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FormDep = Annotated[Form, Depends(posted_form())]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
PAGE_SIZE = 25


@router.post("/introductions")
def ask_for_introduction(page: SignedInPage, form: FormDep) -> Response:
    """Record a supplier's request to meet a masked demand's buyer (``POST /v1/introductions``:
    a firm for itself, staff for any supplier), then back to its page with "request sent"."""
    assert page.key is not None
    try:
        body = _routes_introductions.IntroductionCreate(
            reference=form.get("reference"),
            category_id=form.get("category_id"),
            supplier_id=form.get("supplier_id") or None,
            message=form.get("message"),
        )
    except ValidationError as exc:
        raise Invalid(str(exc.errors()[0]["msg"])) from None
    # The answer names the supplier and the masked demand only: nothing of it is shown but that
    # the request went through.
    made = _routes_introductions.create_introduction(body, page.engine, page.key, Response())
    page.session.flash = page.t("intro_sent")
    return page.redirect(safe_next(form.get("next"), f"/suppliers/{made.supplier_id}/buyers"))


@router.get("/introductions")
def introductions(page: StaffPage, p: PageNumber = 1) -> Response:
    """Every request, the newest first, with the buyer named (staff only, as the API)."""
    assert page.key is not None
    found = _routes_introductions.list_requests(page.engine, page.key, Paging(p, PAGE_SIZE))
    items = [item.model_dump() for item in found["items"]]
    return page.render(
        "introductions.html", found={**found, "items": items}, pages=page_count(found)
    )
