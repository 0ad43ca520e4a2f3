"""Recommendations: suppliers for a buyer, buyers for a supplier, the tiered chain, explanations.

CPU-bound, so plain ``def`` routes (FastAPI runs them in its thread pool). Each reads the served
model once and calls one function of :mod:`._recommendations`, where who may ask, which firms
are left out and what is masked are decided. Writes since the model was fitted do not change
its scores until a staff retrain, but a firm deleted or made unlisted since then is left out of
what is served at once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from ketnoi.api.service import _recommendations
from ketnoi.api.service._deps import AnyKey, EngineDep, Filter, IdPath, ServedDep
from ketnoi.api.service._schemas import MAX_DEPTH, MAX_K, Lang
from ketnoi.api.service._schemas_recommend import Chain, Explanation, Recommendations

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["recommendations"])

K = Annotated[int, Query(ge=1, le=MAX_K, description=f"How many (1-{MAX_K}).")]


@router.get(
    "/buyers/{buyer_id}/suppliers",
    response_model=Recommendations,
    summary="New suppliers for a buyer",
)
def suppliers_for_buyer(
    buyer_id: IdPath,
    key: AnyKey,
    served: ServedDep,
    engine: EngineDep,
    k: K = 10,
    tier: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 1,
    category: Filter = None,
    park: Filter = None,
    certification: Filter = None,
    ownership: Annotated[
        Literal["local", "domestic", "soe", "jv", "fdi"] | None,
        Query(description="Only suppliers of this ownership; local: every kind but fdi."),
    ] = None,
    sector: Filter = None,
    lang: Lang = "en",
) -> dict[str, Any]:
    """The top-``k`` new suppliers for a buyer, best first, with reasons (staff, analyst, or
    the buyer's own firm key). ``tier`` 2 and more: suppliers of the buyer's Tier-1 firms.
    ``park`` takes a park id or name."""
    return _recommendations.suppliers_for_buyer(
        served,
        engine,
        key,
        buyer_id,
        k=k,
        tier=tier,
        category=category,
        park=park,
        certification=certification,
        ownership=ownership,
        sector=sector,
        lang=lang,
    )


@router.get(
    "/suppliers/{supplier_id}/buyers",
    response_model=Recommendations,
    summary="Buyers a supplier should approach",
)
def buyers_for_supplier(
    supplier_id: IdPath,
    key: AnyKey,
    served: ServedDep,
    engine: EngineDep,
    k: K = 10,
    lang: Lang = "en",
) -> dict[str, Any]:
    """The top-``k`` buyers for a supplier, with reasons (staff, analyst, or the supplier's own
    firm key). A buyer's confidential demand shows a firm key only as "a buyer in sector S
    needs category C"."""
    return _recommendations.buyers_for_supplier(served, engine, key, supplier_id, k=k, lang=lang)


@router.get("/buyers/{buyer_id}/chain", response_model=Chain, summary="A buyer's tiered chain")
def chain_for_buyer(
    buyer_id: IdPath,
    key: AnyKey,
    served: ServedDep,
    engine: EngineDep,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 3,
    k: Annotated[int, Query(ge=1, le=20, description="New suppliers per buying firm.")] = 5,
    lang: Lang = "en",
) -> dict[str, Any]:
    """Existing suppliers tier by tier, then recommended ones for every buying firm in the tree
    (staff, analyst, or the buyer's own firm key)."""
    return _recommendations.buyer_chain(served, engine, key, buyer_id, depth=depth, k=k, lang=lang)


@router.get(
    "/suppliers/{supplier_id}/buyers/{buyer_id}/explanation",
    response_model=Explanation,
    summary="Why (or why not yet) a pair",
)
def explain_pair(
    supplier_id: IdPath,
    buyer_id: IdPath,
    key: AnyKey,
    served: ServedDep,
    engine: EngineDep,
    lang: Lang = "en",
) -> dict[str, Any]:
    """Score, each feature's contribution and what blocks the pair, for any supplier-buyer pair
    (staff, analyst, or a firm key of either firm)."""
    return _recommendations.explain_pair(served, engine, key, supplier_id, buyer_id, lang=lang)
