"""Firms: search and profile; a buyer's suppliers, a supplier's buyers, why not yet, outcomes.

Each page calls the JSON route's own function (or the service function it calls) with the
session's key, so a page shows exactly what ``/v1`` answers that key: a firm key reads other
firms' public fields, its own recommendations, banded reasons, and nothing of other firms'
confidential demands.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import ValidationError

from ketnoi.api.pages._web import (
    Form,
    PageRoute,
    SignedInPage,
    page_count,
    posted_form,
    safe_next,
)
from ketnoi.api.service import (
    _recommendations,
    _routes_demands,
    _routes_firms,
    _routes_links,
    _routes_outcomes,
)
from ketnoi.api.service._deps import IdPath, Paging, get_served
from ketnoi.api.service._schemas import MAX_DEPTH, MAX_ID, MAX_K, MAX_PAGE, MAX_TEXT, Role
from ketnoi.api.service._schemas_links import OutcomeCreate
from ketnoi.api.storage import Invalid
from ketnoi.api.storage._introductions import requested_references

__all__ = ["router"]

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FormDep = Annotated[Form, Depends(posted_form())]
Text = Annotated[str | None, Query(max_length=MAX_TEXT)]
IdText = Annotated[str | None, Query(max_length=MAX_ID)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
K = Annotated[int, Query(ge=1, le=MAX_K)]
Ownership = Literal["local", "domestic", "soe", "jv", "fdi"]
#: A firm's own ownership (the firm search; "local" groups them in recommendations only).
FirmOwnership = Literal["domestic", "soe", "jv", "fdi"]
#: The outcomes a page records with one button.
OUTCOME_BUTTONS = ("contacted", "met", "declined")
PAGE_SIZE = 25


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value else None


@router.get("/firms")
def firms(
    page: SignedInPage,
    q: Text = None,
    role: Annotated[Role | Literal[""] | None, Query()] = None,
    sector: Text = None,
    park: IdText = None,
    certification: IdText = None,
    process: IdText = None,
    ownership: Annotated[FirmOwnership | Literal[""] | None, Query()] = None,
    country: Annotated[str | None, Query(max_length=2)] = None,
    category: IdText = None,
    p: PageNumber = 1,
) -> Response:
    """Firms by name (accents optional) and filters, as ``GET /v1/firms``; htmx asks for the
    results alone while the user types."""
    assert page.key is not None
    filters: dict[str, Any] = {
        "q": _blank(q),
        "role": role or None,
        "sector": _blank(sector),
        "park": _blank(park),
        "certification": _blank(certification),
        "process": _blank(process),
        "ownership": ownership or None,
        "country": _blank(country),
        "category": _blank(category),
    }
    found = _routes_firms.list_firms(page.engine, page.key, Paging(p, PAGE_SIZE), **filters)
    items = [item.model_dump() for item in found["items"]]
    values: dict[str, Any] = {
        "found": {**found, "items": items},
        "pages": page_count(found),
        "filters": {k: v or "" for k, v in filters.items()},
    }
    if page.partial:
        return page.render("_firm_results.html", **values)
    return page.render("firms.html", **values)


@router.get("/firms/{firm_id}")
def firm_profile(page: SignedInPage, firm_id: IdPath) -> Response:
    """One firm: profile, what it supplies and buys, its links (as the API shows this key)."""
    key, engine = page.key, page.engine
    assert key is not None
    firm = _routes_firms.get_firm(firm_id, engine, key).model_dump()
    every = Paging(1, 200)
    demands = _routes_demands.list_demands(engine, key, every, firm_id=firm_id)
    demands["items"] = [d.model_dump() for d in demands["items"]]
    as_buyer = _routes_links.list_links(engine, key, every, buyer_id=firm_id)
    as_supplier = _routes_links.list_links(engine, key, every, supplier_id=firm_id)
    return page.render(
        "firm.html",
        firm=firm,
        demands=demands,
        as_buyer=as_buyer,
        as_supplier=as_supplier,
    )


def _outcomes(page: Any, supplier_id: str | None = None, buyer_id: str | None = None) -> Any:
    found = _routes_outcomes.list_outcomes(
        page.engine, page.key, Paging(1, 20), supplier_id=supplier_id, buyer_id=buyer_id
    )
    return [item.model_dump() for item in found["items"]]


@router.get("/buyers/{buyer_id}/suppliers")
def suppliers_for_buyer(
    page: SignedInPage,
    buyer_id: IdPath,
    k: K = 10,
    tier: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 1,
    category: IdText = None,
    park: IdText = None,
    certification: IdText = None,
    ownership: Annotated[Ownership | Literal[""] | None, Query()] = None,
    why: IdText = None,
) -> Response:
    """A buyer's new suppliers with reasons, filters, "why not yet" and outcome buttons
    (``GET /v1/buyers/{id}/suppliers`` and the explanation); the chain comes after it."""
    key, engine = page.key, page.engine
    assert key is not None
    served = get_served(page.request.app.state.holder)
    firm = _routes_firms.get_firm(buyer_id, engine, key).model_dump()
    filters = {
        "category": _blank(category),
        "park": _blank(park),
        "certification": _blank(certification),
        "ownership": ownership or None,
    }
    found = _recommendations.suppliers_for_buyer(
        served, engine, key, buyer_id, k=k, tier=tier, lang=page.lang, **filters
    )
    explanation = None
    if _blank(why):
        explanation = _recommendations.explain_pair(
            served, engine, key, str(_blank(why)), buyer_id, lang=page.lang
        )
    return page.render(
        "suppliers.html",
        firm=firm,
        found=found,
        filters={**{n: v or "" for n, v in filters.items()}, "k": k, "tier": tier},
        why=_blank(why) or "",
        explanation=explanation,
        outcomes=_outcomes(page, buyer_id=buyer_id),
        buttons=OUTCOME_BUTTONS,
        can_record=key.role != "analyst",
    )


@router.get("/buyers/{buyer_id}/chain")
def buyer_chain(page: SignedInPage, buyer_id: IdPath) -> Response:
    """The buyer's tier chain as a tree, existing and recommended suppliers
    (``GET /v1/buyers/{id}/chain``): htmx puts it into the suppliers page once that is shown
    (it ranks every buying firm of the tree live, seconds on the demo world)."""
    key, engine = page.key, page.engine
    assert key is not None
    served = get_served(page.request.app.state.holder)
    firm = _routes_firms.get_firm(buyer_id, engine, key).model_dump()
    chain = _recommendations.buyer_chain(
        served, engine, key, buyer_id, depth=2, k=3, lang=page.lang
    )
    # Each firm's rows by the firm they supply, grouped once here: the tree's template looking
    # them up in the whole chain for every branch took most of the page's time.
    children_of: dict[str, list[dict[str, Any]]] = {}
    for row in chain["items"]:
        children_of.setdefault(row["parent_id"], []).append(row)
    template = "_chain.html" if page.partial else "chain.html"
    return page.render(template, firm=firm, chain=chain["items"], children_of=children_of)


@router.get("/pairs/{supplier_id}/{buyer_id}")
def why_not_yet(
    page: SignedInPage,
    supplier_id: IdPath,
    buyer_id: IdPath,
) -> Response:
    """Why (or why not yet) a pair: blockers to act on and what the score is made of
    (``GET /v1/suppliers/{s}/buyers/{b}/explanation``); htmx puts it into the panel."""
    assert page.key is not None
    served = get_served(page.request.app.state.holder)
    explanation = _recommendations.explain_pair(
        served, page.engine, page.key, supplier_id, buyer_id, lang=page.lang
    )
    template = "_explanation.html" if page.partial else "pair.html"
    return page.render(template, explanation=explanation)


@router.get("/suppliers/{supplier_id}/buyers")
def buyers_for_supplier(page: SignedInPage, supplier_id: IdPath, k: K = 10) -> Response:
    """Which buyers a supplier should approach and why (``GET /v1/suppliers/{id}/buyers``);
    another firm's confidential demand only as "a buyer in sector S needs category C"."""
    key, engine = page.key, page.engine
    assert key is not None
    served = get_served(page.request.app.state.holder)
    firm = _routes_firms.get_firm(supplier_id, engine, key).model_dump()
    found = _recommendations.buyers_for_supplier(
        served, engine, key, supplier_id, k=k, lang=page.lang
    )
    return page.render(
        "buyers.html",
        firm=firm,
        found=found,
        k=k,
        outcomes=_outcomes(page, supplier_id=supplier_id),
        buttons=OUTCOME_BUTTONS,
        can_record=key.role != "analyst",
        # The masked rows it has asked about read "request sent" (by reference, not buyer).
        requested=requested_references(engine, supplier_id),
    )


@router.post("/outcomes")
def record_outcome(page: SignedInPage, form: FormDep) -> Response:
    """Record what came of a pair (``POST /v1/outcomes``: staff any pair, a firm its own)."""
    assert page.key is not None
    try:
        body = OutcomeCreate(
            supplier_id=form.get("supplier_id"),
            buyer_id=form.get("buyer_id"),
            outcome=form.get("outcome"),  # type: ignore[arg-type]
            reason=form.get("reason"),
        )
    except ValidationError as exc:
        raise Invalid(str(exc.errors()[0]["msg"])) from None
    saved = _routes_outcomes.record_outcome(body, page.engine, page.key)
    t = page.t
    message = t(
        "outcome_recorded",
        outcome=t(f"outcome_{saved.outcome}"),
        supplier=saved.supplier_id,
        buyer=saved.buyer_id,
    )
    page.session.flash = message
    return page.redirect(safe_next(form.get("next"), f"/buyers/{saved.buyer_id}/suppliers"))
