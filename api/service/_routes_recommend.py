"""Recommendations: suppliers for a buyer, buyers for a supplier, the tiered chain, explanations.

CPU-bound, so plain ``def`` routes (FastAPI runs them in its thread pool). Each reads the served
model once. Writes since the model was fitted do not change its scores until a staff retrain,
but a firm deleted or made unlisted since then is left out of what is served at once.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import or_, select

from ketnoi.api.service._deps import (
    AnyKey,
    EngineDep,
    Filter,
    IdPath,
    ServedDep,
    ensure_own_firm,
    is_reader,
)
from ketnoi.api.service._holder import ServedModel
from ketnoi.api.service._schemas import (
    MAX_DEPTH,
    MAX_K,
    UNPROCESSABLE,
    Chain,
    Explanation,
    Lang,
    Recommendations,
)
from ketnoi.api.service._store import all_rows, confidential_demands
from ketnoi.api.storage import Firm, KeyInfo, write_generation

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["recommendations"])

FirmIdPath = IdPath
K = Annotated[int, Query(ge=1, le=MAX_K, description=f"How many (1-{MAX_K}).")]

# Rows asked for beyond k, so that k remain after hiding firms unlisted since the last fit.
_SPARE = 20


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    # Column lists, not DataFrame.to_dict: this runs on every request (a third of the time).
    columns = [str(c) for c in frame.columns]
    values = [frame[c].tolist() for c in frame.columns]
    return [
        {c: _plain(v) for c, v in zip(columns, row, strict=True)}
        for row in zip(*values, strict=True)
    ]


def _visible(
    rows: list[dict[str, Any]], field: str, hidden: set[str], k: int
) -> list[dict[str, Any]]:
    """The first ``k`` rows whose ``field`` firm is not hidden, ranked again 1..n."""
    kept = [row for row in rows if row[field] not in hidden][:k]
    for rank, row in enumerate(kept, start=1):
        row["rank"] = rank
    return kept


def _refusal(exc: LookupError | ValueError) -> HTTPException:
    """The matcher's KeyError (an unknown id) as a 404, its ValueError as a 422."""
    message = str(exc.args[0]) if exc.args else "not found"
    code = status.HTTP_404_NOT_FOUND if isinstance(exc, LookupError) else UNPROCESSABLE
    return HTTPException(code, message)


#: Seconds the set of unlisted and deleted firms is reused. A write through this process
#: refreshes it at once; one through another process shows after at most this long.
HIDDEN_CACHE_SECONDS = 2.0
_hidden_cache: dict[int, tuple[float, int, frozenset[str]]] = {}


def _hidden_firms(engine: Any, firm_ids: set[str]) -> set[str]:
    """Of these firms, the ones now unlisted or deleted (never recommended to others)."""
    if not firm_ids:
        return set()
    now, generation = time.monotonic(), write_generation()
    hit = _hidden_cache.get(id(engine))
    if hit is None or hit[1] != generation or now - hit[0] >= HIDDEN_CACHE_SECONDS:
        query = select(Firm).where(or_(Firm.listed.is_(False), Firm.deleted_at.is_not(None)))
        hidden = frozenset(row["firm_id"] for row in all_rows(engine, query))
        hit = (now, generation, hidden)
        _hidden_cache[id(engine)] = hit
    return set(firm_ids & hit[2])


def _masked_reason(served: ServedModel, buyer_id: str, category_id: str, lang: str) -> str:
    dataset = served.matcher.dataset_
    firms = dataset.firms.set_index("firm_id")
    sector = str(firms["sector"].get(buyer_id, "")) or ("unknown" if lang == "en" else "khác")
    categories = dataset.categories.set_index("category_id")
    column = "name_vi" if lang == "vi" and "name_vi" in categories else "name"
    name = str(categories[column].get(category_id, "")) if len(categories) else ""
    category = f"{name} ({category_id})" if name else category_id
    if lang == "vi":
        return f"một bên mua trong ngành {sector} cần {category}"
    return f"a buyer in sector {sector} needs {category}"


def _mask_confidential(
    rows: list[dict[str, Any]],
    served: ServedModel,
    engine: Any,
    key: KeyInfo,
    buyer_field: str,
    lang: str,
) -> list[dict[str, Any]]:
    """For a firm key: pairs resting on another firm's confidential demand show only the mask."""
    if is_reader(key):
        return rows
    buyers = [r[buyer_field] for r in rows if r[buyer_field] and r[buyer_field] != key.firm_id]
    secret = confidential_demands(engine, buyers)
    for row in rows:
        buyer = row[buyer_field]
        if buyer and buyer != key.firm_id and (buyer, row["category_id"]) in secret:
            row["reasons"] = [_masked_reason(served, buyer, row["category_id"], lang)]
            if buyer_field == "buyer_id":
                row["buyer_id"] = None
                row["buyer_name"] = None
    return rows


@router.get(
    "/buyers/{buyer_id}/suppliers",
    response_model=Recommendations,
    summary="New suppliers for a buyer",
)
def suppliers_for_buyer(
    buyer_id: FirmIdPath,
    key: AnyKey,
    served: ServedDep,
    engine: EngineDep,
    k: K = 10,
    tier: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 1,
    category: Filter = None,
    park: Filter = None,
    certification: Filter = None,
    lang: Lang = "en",
) -> dict[str, Any]:
    """The top-``k`` new suppliers for a buyer, best first, with reasons (staff, analyst, or
    the buyer's own firm key). ``tier`` 2 and more: suppliers of the buyer's Tier-1 firms."""
    ensure_own_firm(key, buyer_id)
    try:
        frame = served.matcher.recommend(
            buyer_id,
            k=min(k + _SPARE, MAX_K),
            category=category,
            park=park,
            certification=certification,
            tier=tier,
            lang=lang,
        )
    except (KeyError, ValueError) as exc:
        raise _refusal(exc) from None
    hidden = _hidden_firms(engine, set(frame["supplier_id"]))
    rows = _visible(_records(frame), "supplier_id", hidden, k)
    if "buyer_id" not in frame:
        for row in rows:
            row["buyer_id"] = buyer_id
    rows = _mask_confidential(rows, served, engine, key, "parent_id", lang) if tier > 1 else rows
    return {"model_version": served.version, "items": rows}


@router.get(
    "/suppliers/{supplier_id}/buyers",
    response_model=Recommendations,
    summary="Buyers a supplier should approach",
)
def buyers_for_supplier(
    supplier_id: FirmIdPath,
    key: AnyKey,
    served: ServedDep,
    engine: EngineDep,
    k: K = 10,
    lang: Lang = "en",
) -> dict[str, Any]:
    """The top-``k`` buyers for a supplier, with reasons (staff, analyst, or the supplier's own
    firm key). A buyer's confidential demand shows a firm key only as "a buyer in sector S
    needs category C"."""
    ensure_own_firm(key, supplier_id)
    try:
        frame = served.matcher.suggest_buyers(supplier_id, k=min(k + _SPARE, MAX_K), lang=lang)
    except (KeyError, ValueError) as exc:
        raise _refusal(exc) from None
    hidden = _hidden_firms(engine, set(frame["buyer_id"]))
    rows = _visible(_records(frame), "buyer_id", hidden, k)
    rows = _mask_confidential(rows, served, engine, key, "buyer_id", lang)
    return {"model_version": served.version, "items": rows}


@router.get("/buyers/{buyer_id}/chain", response_model=Chain, summary="A buyer's tiered chain")
def chain_for_buyer(
    buyer_id: FirmIdPath,
    key: AnyKey,
    served: ServedDep,
    engine: EngineDep,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 3,
    k: Annotated[int, Query(ge=1, le=20, description="New suppliers per buying firm.")] = 5,
    lang: Lang = "en",
) -> dict[str, Any]:
    """Existing suppliers tier by tier, then recommended ones for every buying firm in the tree
    (staff, analyst, or the buyer's own firm key)."""
    ensure_own_firm(key, buyer_id)
    try:
        frame = served.matcher.chain(buyer_id, depth=depth, k=k, lang=lang)
    except (KeyError, ValueError) as exc:
        raise _refusal(exc) from None
    hidden = _hidden_firms(engine, set(frame["supplier_id"]))
    frame = frame[frame["existing"].astype(bool) | ~frame["supplier_id"].isin(hidden)]
    rows = _mask_confidential(_records(frame), served, engine, key, "parent_id", lang)
    return {"model_version": served.version, "buyer_id": buyer_id, "depth": depth, "items": rows}


@router.get(
    "/suppliers/{supplier_id}/buyers/{buyer_id}/explanation",
    response_model=Explanation,
    summary="Why (or why not yet) a pair",
)
def explain_pair(
    supplier_id: FirmIdPath,
    buyer_id: FirmIdPath,
    key: AnyKey,
    served: ServedDep,
    engine: EngineDep,
    lang: Lang = "en",
) -> dict[str, Any]:
    """Score, each feature's contribution and what blocks the pair, for any supplier-buyer pair
    (staff, analyst, or a firm key of either firm)."""
    ensure_own_firm(key, supplier_id, buyer_id)
    try:
        explanation = served.matcher.explain(supplier_id, buyer_id, lang=lang)
    except (KeyError, ValueError) as exc:
        raise _refusal(exc) from None
    out = {**explanation, "model_version": served.version}
    out["contributions"] = [{**c, "value": _plain(c["value"])} for c in out["contributions"]]
    if not is_reader(key) and key.firm_id != buyer_id:
        secret = confidential_demands(engine, [buyer_id])
        if (buyer_id, out["category_id"]) in secret:
            out["reasons"] = [_masked_reason(served, buyer_id, out["category_id"], lang)]
            out["blockers"] = []
    return out
