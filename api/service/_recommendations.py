"""Recommendations as the service hands them out: who may ask, who is left out, what is masked.

One function per question (suppliers for a buyer, buyers for a supplier, a buyer's tiered
chain, why a pair), each called by its JSON route and by any page or export showing the same
thing, so that they can never disagree. Each one

- refuses a firm key asking for another firm (:func:`~._access.ensure_own_firm`);
- asks the served model (an unknown firm is :class:`~ketnoi.api.storage.NotFound`, a bad value
  :class:`~ketnoi.api.storage.Invalid`);
- leaves out firms unlisted or deleted since the model was fitted (their set cached for
  :data:`HIDDEN_CACHE_SECONDS`), asking the model for a few spare rows so that ``k`` remain;
- masks, for a firm key, every pair resting on another firm's confidential demand down to
  "a buyer in sector S needs category C" (:func:`~._access.masked_demand`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from ketnoi.api.service._access import ensure_own_firm, masked_demand, sees_private_data
from ketnoi.api.service._holder import ServedModel
from ketnoi.api.service._schemas import MAX_K
from ketnoi.api.storage import (
    Invalid,
    KeyInfo,
    NotFound,
    confidential_demands,
    hidden_firms,
    write_generation,
)
from ketnoi.graph._values import json_column, json_value

__all__ = [
    "HIDDEN_CACHE_SECONDS",
    "buyer_chain",
    "buyers_for_supplier",
    "explain_pair",
    "suppliers_for_buyer",
]

Row = dict[str, Any]

#: Rows asked for beyond k, so that k remain after hiding firms unlisted since the last fit.
SPARE_ROWS = 20

#: Seconds the set of unlisted and deleted firms is reused. A write through this process
#: refreshes it at once; one through another process shows after at most this long.
HIDDEN_CACHE_SECONDS = 2.0
_hidden_cache: dict[int, tuple[float, int, frozenset[str]]] = {}
_hidden_lock = threading.Lock()


def _hidden(engine: Engine, firm_ids: set[str]) -> set[str]:
    """Of these firms, the ones now unlisted or deleted (never recommended to others)."""
    if not firm_ids:
        return set()
    now, generation = time.monotonic(), write_generation()
    with _hidden_lock:
        hit = _hidden_cache.get(id(engine))
        if hit is None or hit[1] != generation or now - hit[0] >= HIDDEN_CACHE_SECONDS:
            hit = (now, generation, frozenset(hidden_firms(engine)))
            _hidden_cache[id(engine)] = hit
    return set(firm_ids & hit[2])


def _rows(frame: pd.DataFrame) -> list[Row]:
    # Column by column, not DataFrame.to_dict: this runs on every request.
    columns = [str(c) for c in frame.columns]
    values = [json_column(frame[c]) for c in frame.columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def _first_visible(rows: list[Row], field: str, hidden: set[str], k: int) -> list[Row]:
    """The first ``k`` rows whose ``field`` firm is not hidden, ranked again 1..n."""
    kept = [row for row in rows if row[field] not in hidden][:k]
    for rank, row in enumerate(kept, start=1):
        row["rank"] = rank
    return kept


def _ask(question: Callable[[], Any]) -> Any:
    """The served model's answer; its KeyError (an unknown id) a 404, its ValueError a 422."""
    try:
        return question()
    except KeyError as exc:
        raise NotFound(str(exc.args[0]) if exc.args else "not found") from None
    except ValueError as exc:
        raise Invalid(str(exc.args[0]) if exc.args else "invalid") from None


def _mask_reason(served: ServedModel, buyer_id: str, category_id: str, lang: str) -> str:
    dataset = served.matcher.dataset_
    sector = str(dataset.firms.set_index("firm_id")["sector"].get(buyer_id, ""))
    categories = dataset.categories.set_index("category_id")
    column = "name_vi" if lang == "vi" and "name_vi" in categories else "name"
    name = str(categories[column].get(category_id, "")) if len(categories) else ""
    return masked_demand(sector, category_id, name, lang)


def _mask_confidential(
    rows: list[Row], served: ServedModel, engine: Engine, key: KeyInfo, buyer_field: str, lang: str
) -> list[Row]:
    """For a firm key: pairs resting on another firm's confidential demand show only the mask."""

    def other(buyer: str | None) -> bool:
        return bool(buyer) and not sees_private_data(key, buyer)

    buyers = [row[buyer_field] for row in rows if other(row[buyer_field])]
    secret = confidential_demands(engine, buyers)
    for row in rows:
        buyer = row[buyer_field]
        if other(buyer) and (buyer, row["category_id"]) in secret:
            row["reasons"] = [_mask_reason(served, buyer, row["category_id"], lang)]
            if buyer_field == "buyer_id":
                row["buyer_id"] = None
                row["buyer_name"] = None
    return rows


def suppliers_for_buyer(
    served: ServedModel,
    engine: Engine,
    key: KeyInfo,
    buyer_id: str,
    *,
    k: int = 10,
    tier: int = 1,
    category: str | None = None,
    park: str | None = None,
    certification: str | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """The top-``k`` new suppliers for a buyer, best first, with reasons.

    ``tier`` 2 and more: suppliers of the buyer's Tier-1 firms, masked where they rest on
    another firm's confidential demand.
    """
    ensure_own_firm(key, buyer_id)
    frame = _ask(
        lambda: served.matcher.recommend(
            buyer_id,
            k=min(k + SPARE_ROWS, MAX_K),
            category=category,
            park=park,
            certification=certification,
            tier=tier,
            lang=lang,
        )
    )
    hidden = _hidden(engine, set(frame["supplier_id"]))
    rows = _first_visible(_rows(frame), "supplier_id", hidden, k)
    if "buyer_id" not in frame:
        for row in rows:
            row["buyer_id"] = buyer_id
    if tier > 1:
        rows = _mask_confidential(rows, served, engine, key, "parent_id", lang)
    return {"model_version": served.version, "items": rows}


def buyers_for_supplier(
    served: ServedModel,
    engine: Engine,
    key: KeyInfo,
    supplier_id: str,
    *,
    k: int = 10,
    lang: str = "en",
) -> dict[str, Any]:
    """The top-``k`` buyers for a supplier, with reasons; another buyer's confidential demand
    shows a firm key only as "a buyer in sector S needs category C"."""
    ensure_own_firm(key, supplier_id)
    frame = _ask(
        lambda: served.matcher.suggest_buyers(supplier_id, k=min(k + SPARE_ROWS, MAX_K), lang=lang)
    )
    hidden = _hidden(engine, set(frame["buyer_id"]))
    rows = _first_visible(_rows(frame), "buyer_id", hidden, k)
    rows = _mask_confidential(rows, served, engine, key, "buyer_id", lang)
    return {"model_version": served.version, "items": rows}


def buyer_chain(
    served: ServedModel,
    engine: Engine,
    key: KeyInfo,
    buyer_id: str,
    *,
    depth: int = 3,
    k: int = 5,
    lang: str = "en",
) -> dict[str, Any]:
    """Existing suppliers tier by tier, then ``k`` recommended ones for every buying firm in
    the tree (recommended firms hidden since the fit left out; existing ones kept)."""
    ensure_own_firm(key, buyer_id)
    frame = _ask(lambda: served.matcher.chain(buyer_id, depth=depth, k=k, lang=lang))
    hidden = _hidden(engine, set(frame["supplier_id"]))
    frame = frame[frame["existing"].astype(bool) | ~frame["supplier_id"].isin(hidden)]
    rows = _mask_confidential(_rows(frame), served, engine, key, "parent_id", lang)
    return {"model_version": served.version, "buyer_id": buyer_id, "depth": depth, "items": rows}


def explain_pair(
    served: ServedModel,
    engine: Engine,
    key: KeyInfo,
    supplier_id: str,
    buyer_id: str,
    *,
    lang: str = "en",
) -> dict[str, Any]:
    """Score, each feature's contribution and what blocks a supplier-buyer pair (a firm key of
    either firm; reasons and blockers masked where they rest on the buyer's confidential
    demand and the key is the supplier's)."""
    ensure_own_firm(key, supplier_id, buyer_id)
    explanation = _ask(lambda: served.matcher.explain(supplier_id, buyer_id, lang=lang))
    out = {**explanation, "model_version": served.version}
    out["contributions"] = [{**c, "value": json_value(c["value"])} for c in out["contributions"]]
    if not sees_private_data(key, buyer_id):
        secret = confidential_demands(engine, [buyer_id])
        if (buyer_id, out["category_id"]) in secret:
            out["reasons"] = [_mask_reason(served, buyer_id, out["category_id"], lang)]
            out["blockers"] = []
    return out
