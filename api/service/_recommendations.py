"""Recommendations as the service hands them out: who may ask, who is left out, what is masked.

One function per question (suppliers for a buyer, buyers for a supplier, a buyer's tiered
chain, why a pair), each called by its JSON route and by any page or export showing the same
thing, so that they can never disagree. Each one

- refuses a firm key asking for another firm (:func:`~._access.ensure_own_firm`);
- asks the served model (an unknown firm is :class:`~ketnoi.api.storage.NotFound`, a bad value
  :class:`~ketnoi.api.storage.Invalid`);
- leaves out firms unlisted or deleted since the model was fitted (their set cached for
  :data:`HIDDEN_CACHE_SECONDS`), asking the model for a few spare rows so that ``k`` remain;
- answers a firm key from the model without other firms' confidential demands
  (:func:`~._views.matcher_for`), so that no score, rank or order it reads rests on one; the
  pairs the full model finds on one are told to a supplier only as "a buyer in sector S needs
  category C" (:func:`~._access.masked_demand`), without buyer, rank or score;
- bands private values in reasons and explanations for firm keys
  (:func:`~._access.disclosure_for`) and shows a firm key other firms' links not at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from ketnoi import matcher
from ketnoi.api.service._access import (
    disclosure_for,
    ensure_own_firm,
    is_reader,
    masked_demand,
    sees_private_data,
)
from ketnoi.api.service._holder import ServedModel
from ketnoi.api.service._live import live_matcher
from ketnoi.api.service._memo import remembered
from ketnoi.api.service._schemas import MAX_K
from ketnoi.api.service._views import matcher_for
from ketnoi.api.storage import (
    Invalid,
    KeyInfo,
    NotFound,
    confidential_demands,
    hidden_firms,
    introduction_reference,
    missing_firms,
    server_secret,
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
    now, generation = time.monotonic(), write_generation(engine)
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


def _explained(model: matcher.Matcher, supplier_id: str, buyer_id: str, lang: str) -> Any:
    return remembered(
        model,
        ("explain", supplier_id, buyer_id, lang),
        lambda: model.explain(supplier_id, buyer_id, lang=lang),
    )


def _mask_reason(full: matcher.Matcher, buyer_id: str, category_id: str, lang: str) -> str:
    dataset = full.dataset_
    sector = str(dataset.firms.set_index("firm_id")["sector"].get(buyer_id, ""))
    if sector and lang == "vi":  # "trong ngành điện tử", as the buyer's own page names it
        sector = matcher.term_vi(sector, lang, full.index_.names_vi)
    categories = dataset.categories.set_index("category_id")
    column = "name_vi" if lang == "vi" and "name_vi" in categories else "name"
    name = str(categories[column].get(category_id, "")) if len(categories) else ""
    return masked_demand(sector, category_id, name, lang)


def _masked_suggestions(
    served: ServedModel, engine: Engine, key: KeyInfo, supplier_id: str, k: int, lang: str
) -> list[Row]:
    """For a firm key: the full model's top-``k`` buyers for the supplier that rest on another
    firm's confidential demand, as "a buyer in sector S needs category C" without buyer, rank
    or score, by sector and category (so that their order says nothing either)."""
    full = live_matcher(served, engine, (supplier_id,)).matcher
    frame = remembered(
        full,
        ("suggest_buyers", supplier_id, k, lang),
        lambda: full.suggest_buyers(supplier_id, k=k, lang=lang),
    )
    buyers = [b for b in frame["buyer_id"] if not sees_private_data(key, b)]
    secret = confidential_demands(engine, buyers)
    hidden = _hidden(engine, set(buyers))
    masked: dict[str, tuple[str, str]] = {}
    for b, c in zip(frame["buyer_id"], frame["category_id"], strict=True):
        if (b, c) in secret and b not in hidden:
            masked.setdefault(_mask_reason(full, b, c, lang), (c, b))
    # The reference lets the supplier ask staff for an introduction (POST /v1/introductions)
    # without learning the buyer: an HMAC under the server's secret.
    key_secret = server_secret(engine)
    return [
        {
            "buyer_id": None,
            "buyer_name": None,
            "supplier_id": supplier_id,
            "category_id": category,
            "tier": 1,
            "rank": None,
            "score": None,
            "reasons": [reason],
            "reference": introduction_reference(key_secret, supplier_id, buyer, category),
        }
        for reason, (category, buyer) in sorted(masked.items())
    ]


def _banded(rows: list[Row], key: KeyInfo, lang: str) -> list[Row]:
    """Each row's reasons as the key may read them (capacity and distance banded)."""
    for row in rows:
        audience = disclosure_for(key, row.get("supplier_id"))
        row["reasons"] = matcher.disclose_reasons(row["reasons"], disclosure=audience, lang=lang)
    return rows


def _ensure_live_key(engine: Engine, key: KeyInfo) -> None:
    """A firm key whose firm was deleted (since the model was fitted, too) gets nothing."""
    if not is_reader(key) and missing_firms(engine, [key.firm_id or ""]):
        raise NotFound(f"no firm '{key.firm_id}'")


def _visible_chain(rows: list[Row], key: KeyInfo, root: str) -> list[Row]:
    """For a firm key: its own existing suppliers and the recommendations under firms it can
    see; other firms' existing links (which /v1/links refuses it) are left out."""
    if is_reader(key):
        return rows
    shown, kept = {root}, set()
    for i in sorted(range(len(rows)), key=lambda i: rows[i]["tier"]):
        row = rows[i]
        own_link = row["existing"] and row["parent_id"] == root
        if row["parent_id"] in shown and (own_link or not row["existing"]):
            kept.add(i)
            shown.add(row["supplier_id"])
    return [row for i, row in enumerate(rows) if i in kept]


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
    ownership: str | None = None,
    sector: str | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """The top-``k`` new suppliers for a buyer, best first, with reasons.

    ``tier`` 2 and more: suppliers of the buyer's Tier-1 firms. A firm key is answered from
    the model without other firms' confidential demands (:func:`~._views.matcher_for`).
    """
    ensure_own_firm(key, buyer_id)
    _ensure_live_key(engine, key)
    model = matcher_for(served, engine, key, (buyer_id,))
    if tier > 1 and not is_reader(key):
        # From the chain the key may see, so that a Tier-1 firm's links stay out of it.
        chain = buyer_chain(served, engine, key, buyer_id, depth=tier, k=k, lang=lang)
        rows = [r for r in chain["items"] if r["tier"] == tier and not r["existing"]]
        rows = sorted(rows, key=lambda r: -r["score"])[:k]
        for rank, row in enumerate(rows, start=1):
            row.update(rank=rank, buyer_id=buyer_id)
        return {"model_version": served.version, "items": rows}
    fetch = min(k + SPARE_ROWS, MAX_K)
    filters = (category, park, certification, ownership, sector)
    frame = _ask(
        lambda: remembered(
            model,
            ("recommend", buyer_id, fetch, filters, tier, lang),
            lambda: model.recommend(
                buyer_id,
                k=fetch,
                category=category,
                park=park,
                certification=certification,
                ownership=ownership,
                sector=sector,
                tier=tier,
                lang=lang,
            ),
        )
    )
    hidden = _hidden(engine, set(frame["supplier_id"]))
    rows = _first_visible(_rows(frame), "supplier_id", hidden, k)
    if "buyer_id" not in frame:
        for row in rows:
            row["buyer_id"] = buyer_id
    return {"model_version": served.version, "items": _banded(rows, key, lang)}


def buyers_for_supplier(
    served: ServedModel,
    engine: Engine,
    key: KeyInfo,
    supplier_id: str,
    *,
    k: int = 10,
    lang: str = "en",
) -> dict[str, Any]:
    """The top-``k`` buyers for a supplier, with reasons.

    A firm key is answered from the model without other firms' confidential demands; those
    of the full model's top-``k`` that rest on one follow, as "a buyer in sector S needs
    category C" with neither buyer nor rank nor score.
    """
    ensure_own_firm(key, supplier_id)
    _ensure_live_key(engine, key)
    model = matcher_for(served, engine, key, (supplier_id,))
    fetch = min(k + SPARE_ROWS, MAX_K)
    frame = _ask(
        lambda: remembered(
            model,
            ("suggest_buyers", supplier_id, fetch, lang),
            lambda: model.suggest_buyers(supplier_id, k=fetch, lang=lang),
        )
    )
    hidden = _hidden(engine, set(frame["buyer_id"]))
    rows = _banded(_first_visible(_rows(frame), "buyer_id", hidden, k), key, lang)
    if not is_reader(key):
        rows += _masked_suggestions(served, engine, key, supplier_id, k, lang)
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
    """Existing suppliers tier by tier, then recommended ones for every buying firm in the tree
    (recommended firms hidden since the fit left out; existing ones kept). A firm key sees its
    own existing suppliers only, and recommendations from the model without other firms'
    confidential demands."""
    ensure_own_firm(key, buyer_id)
    _ensure_live_key(engine, key)
    model = matcher_for(served, engine, key, (buyer_id,))
    frame = _ask(
        lambda: remembered(
            model,
            ("chain", buyer_id, depth, k, lang),
            lambda: model.chain(buyer_id, depth=depth, k=k, lang=lang),
        )
    )
    hidden = _hidden(engine, set(frame["supplier_id"]))
    frame = frame[frame["existing"].astype(bool) | ~frame["supplier_id"].isin(hidden)]
    rows = _banded(_visible_chain(_rows(frame), key, buyer_id), key, lang)
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
    either firm, from the model without other firms' confidential demands; private values
    banded, see :func:`ketnoi.matcher.disclose_explanation`). For a firm key, a pair whose
    other firm is unlisted, deleted or unknown is one 404 alike."""
    ensure_own_firm(key, supplier_id, buyer_id)
    _ensure_live_key(engine, key)
    model = matcher_for(served, engine, key, (supplier_id, buyer_id))
    if is_reader(key):
        explanation = _ask(lambda: _explained(model, supplier_id, buyer_id, lang))
    else:
        other = buyer_id if key.firm_id == supplier_id else supplier_id
        absent = NotFound(f"no pair of supplier '{supplier_id}' and buyer '{buyer_id}'")
        if _hidden(engine, {other}) or missing_firms(engine, [other]):
            raise absent
        try:
            explanation = _ask(lambda: _explained(model, supplier_id, buyer_id, lang))
        except NotFound:
            raise absent from None
    out = {**explanation, "model_version": served.version}
    out["contributions"] = [{**c, "value": json_value(c["value"])} for c in out["contributions"]]
    audience = disclosure_for(key, supplier_id)
    return matcher.disclose_explanation(out, disclosure=audience, lang=lang)
