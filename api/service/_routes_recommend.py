"""Recommendations: suppliers for a buyer, buyers for a supplier, the tiered chain, explanations.

Each reads the served model once and asks :func:`._answers.answer` for one function of
:mod:`._recommendations`, where who may ask, which firms are left out and what is masked are
decided. The routes are coroutines: an answer the same caller had since the last write comes
from the answer cache as bytes, on the event loop; a new one is made in the thread pool (it is
CPU-bound) and serialised once by the route's response model, which also documents it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from ketnoi.api.service import _recommendations
from ketnoi.api.service._answers import answer
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
async def suppliers_for_buyer(
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
) -> Response:
    """The top-``k`` new suppliers for a buyer, best first, with reasons (staff, analyst, or
    the buyer's own firm key). ``tier`` 2 and more: suppliers of the buyer's Tier-1 firms.
    ``park`` takes a park id or name."""
    return await answer(
        served,
        engine,
        key,
        Recommendations,
        _recommendations.suppliers_for_buyer,
        buyer_id,
        firms=(buyer_id,),
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
async def buyers_for_supplier(
    supplier_id: IdPath,
    key: AnyKey,
    served: ServedDep,
    engine: EngineDep,
    k: K = 10,
    lang: Lang = "en",
) -> Response:
    """The top-``k`` buyers for a supplier, with reasons (staff, analyst, or the supplier's own
    firm key). A buyer's confidential demand shows a firm key only as "a buyer in sector S
    needs category C"."""
    return await answer(
        served,
        engine,
        key,
        Recommendations,
        _recommendations.buyers_for_supplier,
        supplier_id,
        firms=(supplier_id,),
        k=k,
        lang=lang,
    )


@router.get("/buyers/{buyer_id}/chain", response_model=Chain, summary="A buyer's tiered chain")
async def chain_for_buyer(
    buyer_id: IdPath,
    key: AnyKey,
    served: ServedDep,
    engine: EngineDep,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 3,
    k: Annotated[int, Query(ge=1, le=20, description="New suppliers per buying firm.")] = 5,
    lang: Lang = "en",
) -> Response:
    """Existing suppliers tier by tier, then recommended ones for every buying firm in the tree
    (staff, analyst, or the buyer's own firm key)."""
    return await answer(
        served,
        engine,
        key,
        Chain,
        _recommendations.buyer_chain,
        buyer_id,
        firms=(buyer_id,),
        depth=depth,
        k=k,
        lang=lang,
    )


@router.get(
    "/suppliers/{supplier_id}/buyers/{buyer_id}/explanation",
    response_model=Explanation,
    summary="Why (or why not yet) a pair",
)
async def explain_pair(
    supplier_id: IdPath,
    buyer_id: IdPath,
    key: AnyKey,
    served: ServedDep,
    engine: EngineDep,
    lang: Lang = "en",
) -> Response:
    """Score, each feature's contribution and what blocks the pair, for any supplier-buyer pair
    (staff, analyst, or a firm key of either firm)."""
    return await answer(
        served,
        engine,
        key,
        Explanation,
        _recommendations.explain_pair,
        supplier_id,
        buyer_id,
        firms=(supplier_id, buyer_id),
        lang=lang,
    )
