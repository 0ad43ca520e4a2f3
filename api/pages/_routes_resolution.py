"""The review queue as a page (staff): each pair with the list's record and the register's firm
side by side, the match probability and its evidence, and buttons to say same or different.

The page calls the same storage functions as ``GET /v1/resolution/reviews`` and
``POST /v1/resolution/reviews/{review_id}/decision``; an answer is remembered, so a re-upload
of the list never asks it again.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from ketnoi import graph
from ketnoi.api.pages._web import Form, PageRoute, StaffPage, posted_form
from ketnoi.api.storage import Conflict, NotFound, decide_review, review_queue
from ketnoi.api.storage._intake_categories import register_categories

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FormDep = Annotated[Form, Depends(posted_form())]
#: The fields shown side by side, in order.
SIDE_BY_SIDE = ("name", "tax_code", "address", "phone", "email", "website")


def _render(
    page: StaffPage, status_code: int = 200, message: str = "", ok: bool = True
) -> Response:
    queue = review_queue(page.engine)
    # A row that names its products shows the categories they most likely mean, as the intake
    # showed them: a person deciding the pair sees what the firm makes.
    rows = [
        graph.SourceRecord(r["source"], r["sheet"], r["line"], {}, {"products": r["products"]})
        for r in (q["record"] for q in queue)
        if r.get("products")
    ]
    found = graph.category_choices(rows, register_categories(page.engine)) if rows else []
    categories = {(c["sheet"], c["line"]): c for c in found}
    return page.render(
        "duplicates.html",
        status_code,
        queue=queue,
        categories=categories,
        fields=SIDE_BY_SIDE,
        message=message,
        ok=ok,
    )


@router.get("/duplicates")
def duplicates(page: StaffPage) -> Response:
    """The pairs waiting for a person, oldest first."""
    return _render(page)


@router.post("/duplicates")
def decide(page: StaffPage, form: FormDep) -> Response:
    """A person's answer: ``match`` (same firm) or ``distinct`` (different firms)."""
    assert page.key is not None
    review_id, decision = form.get("review_id"), form.get("decision")
    if not review_id.isdigit() or decision not in ("match", "distinct"):
        return _render(page, 422, page.t("dup_bad_answer"), ok=False)
    try:
        done = decide_review(page.engine, int(review_id), decision, page.key)
    except (NotFound, Conflict):
        return _render(page, 409, page.t("dup_gone", id=review_id), ok=False)
    if decision == "match":
        message = page.t("dup_done_match", id=review_id, firm=done["firm_id"])
    else:
        message = page.t("dup_done_distinct", id=review_id)
    return _render(page, message=message)
