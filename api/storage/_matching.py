"""Trained models and saved match lists, each tied to the model version and data that made it.

The database half of a match list: saving its rows with the spec that made them, reading it
back with names, and what the database knows that the rules need (declined outcomes, firms
unlisted or deleted since the fit). The rules themselves are ``matcher.build_match_list``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from ketnoi.api.storage._audit import record
from ketnoi.api.storage._engine import transaction
from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._models import (
    Category,
    Firm,
    MatchList,
    MatchListRow,
    ModelRecord,
    Outcome,
)

__all__ = [
    "declined_pairs",
    "get_match_list",
    "hidden_firms",
    "list_match_lists",
    "match_list_rankings",
    "missing_firms",
    "register_model",
    "save_match_list",
    "update_match_list",
]


def register_model(
    engine: Engine,
    version: str,
    trained_at: dt.datetime,
    fingerprint: str,
    *,
    metrics: dict[str, Any] | None = None,
    path: str = "",
    actor: KeyInfo | str = "cli",
) -> int:
    """Record a trained model (its version must be new); returns its row id."""

    def work(session: Session) -> int:
        model = ModelRecord(
            version=version,
            trained_at=trained_at,
            fingerprint=fingerprint,
            metrics=dict(metrics or {}),
            path=path,
        )
        session.add(model)
        session.flush()
        record(session, actor, "create", "models", version, {"fingerprint": fingerprint})
        return model.id

    return transaction(engine, work)


def _reasons(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [] if value is None or value == "" else [str(value)]


def _row(cells: dict[str, Any]) -> MatchListRow:
    tier = cells.get("tier")
    no_tier = tier is None or tier is pd.NA or (isinstance(tier, float) and math.isnan(tier))
    return MatchListRow(
        buyer_id=str(cells["buyer_id"]),
        supplier_id=str(cells["supplier_id"]),
        category_id=str(cells.get("category_id") or ""),
        tier=None if no_tier else int(tier),  # type: ignore[arg-type]
        rank=int(cells["rank"]),
        score=float(cells["score"]),
        reasons=_reasons(cells.get("reasons")),
        pinned=bool(cells.get("pinned", False)),
        side=str(cells.get("side") or "buyer"),
    )


def _actor_name(actor: KeyInfo | str) -> str:
    return actor if isinstance(actor, str) else f"key:{actor.id}"


def save_match_list(
    engine: Engine,
    recommendations: pd.DataFrame,
    *,
    model_version: str,
    data_fingerprint: str,
    k: int | None = None,
    label: str = "",
    params: dict[str, Any] | None = None,
    actor: KeyInfo | str = "cli",
) -> int:
    """Save a match list (a frame like ``matcher.build_match_list`` returns); returns its id.

    Parameters
    ----------
    recommendations : DataFrame
        Columns ``buyer_id, supplier_id, category_id, tier, rank, score, reasons`` and,
        optionally, ``pinned`` and ``side`` (default: not pinned, on the buyer's list).
    model_version, data_fingerprint : str
        The model (``Matcher.version_``) and data (``Dataset.fingerprint()``) that made it.
    params : dict, optional
        The spec that made it (``matcher.MatchListSpec.params()``), so that it can be derived
        again; audited with the list.
    """
    records = recommendations.to_dict("records")

    def work(session: Session) -> int:
        rows = [_row(cells) for cells in records]  # fresh objects should a retry run this again
        saved = MatchList(
            model_version=model_version,
            data_fingerprint=data_fingerprint,
            k=k,
            label=label,
            created_by=_actor_name(actor),
            params=dict(params or {}),
            rows=rows,
        )
        session.add(saved)
        session.flush()
        detail: dict[str, Any] = {"rows": len(records), "model_version": model_version}
        detail["data_fingerprint"] = data_fingerprint
        if params:
            detail["params"] = dict(params)
        record(session, actor, "create", "match_lists", str(saved.id), detail)
        return saved.id

    return transaction(engine, work)


def update_match_list(
    engine: Engine,
    list_id: int,
    recommendations: pd.DataFrame,
    *,
    params: dict[str, Any],
    expected_params: dict[str, Any],
    model_version: str,
    data_fingerprint: str,
    detail: dict[str, Any] | None = None,
    actor: KeyInfo | str = "cli",
) -> bool:
    """Replace a saved list's rows and spec, and audit it with ``detail`` added.

    Returns False, and writes nothing, when there is no such list or its spec is no longer
    ``expected_params`` (another change landed between reading and writing it).
    """
    records = recommendations.to_dict("records")

    def work(session: Session) -> bool:
        saved = session.get(MatchList, list_id)
        if saved is None or saved.params != expected_params:
            return False
        saved.rows = [_row(cells) for cells in records]
        saved.params = dict(params)
        saved.model_version = model_version
        saved.data_fingerprint = data_fingerprint
        session.flush()
        audited = {**(detail or {}), "rows": len(records), "model_version": model_version}
        audited["data_fingerprint"] = data_fingerprint
        record(session, actor, "update", "match_lists", str(list_id), audited)
        return True

    return transaction(engine, work)


def _summary(saved: MatchList, n_rows: int) -> dict[str, Any]:
    return {
        "id": saved.id,
        "label": saved.label,
        "created_at": saved.created_at,
        "created_by": saved.created_by,
        "model_version": saved.model_version,
        "data_fingerprint": saved.data_fingerprint,
        "k": saved.k,
        "rows": n_rows,
    }


def list_match_lists(
    engine: Engine, page: int = 1, page_size: int = 50
) -> tuple[list[dict[str, Any]], int]:
    """One page of saved match lists (newest first, with their number of rows, without the
    rows), and how many there are."""
    counts = (
        select(MatchListRow.match_list_id, func.count().label("n"))
        .group_by(MatchListRow.match_list_id)
        .subquery()
    )
    query = (
        select(MatchList, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.match_list_id == MatchList.id)
        .order_by(MatchList.id.desc())
    )
    with Session(engine) as session:
        total = session.scalar(select(func.count()).select_from(MatchList)) or 0
        found = session.execute(query.offset((page - 1) * page_size).limit(page_size)).all()
        return [_summary(saved, int(n)) for saved, n in found], int(total)


def get_match_list(engine: Engine, list_id: int) -> dict[str, Any] | None:
    """A saved match list with its ``params`` and rows (``items``), firm and category names
    filled in from the database (category names in the list's language); None if there is no
    such list."""
    with Session(engine) as session:
        saved = session.get(MatchList, list_id)
        if saved is None:
            return None
        rows: list[dict[str, Any]] = [
            {
                "side": r.side,
                "buyer_id": r.buyer_id,
                "supplier_id": r.supplier_id,
                "category_id": r.category_id,
                "tier": r.tier,
                "rank": r.rank,
                "score": r.score,
                "pinned": r.pinned,
                "reasons": [str(x) for x in r.reasons or ()],
            }
            for r in saved.rows
        ]
        out = {**_summary(saved, len(rows)), "params": dict(saved.params or {}), "items": rows}
        firms = {r["buyer_id"] for r in rows} | {r["supplier_id"] for r in rows}
        query = select(Firm.firm_id, Firm.name).where(Firm.firm_id.in_(sorted(firms)))
        names = {firm_id: name for firm_id, name in session.execute(query)}
        lang = out["params"].get("lang", "en")
        categories = {
            c: (vi if lang == "vi" and vi else name)
            for c, name, vi in session.execute(
                select(Category.category_id, Category.name, Category.name_vi)
            )
        }
    for row in rows:
        row["buyer_name"] = names.get(row["buyer_id"])
        row["supplier_name"] = names.get(row["supplier_id"])
        row["category_name"] = categories.get(row["category_id"]) if row["category_id"] else None
    return out


# -- what the database knows that a match list's rules need ------------------------------------
def declined_pairs(
    engine: Engine, buyer_ids: Iterable[str], supplier_ids: Iterable[str]
) -> set[tuple[str, str]]:
    """(buyer_id, supplier_id) of every ``declined`` outcome of one of the buyers or suppliers."""
    query = select(Outcome.buyer_id, Outcome.supplier_id).where(
        Outcome.outcome == "declined",
        or_(Outcome.buyer_id.in_(list(buyer_ids)), Outcome.supplier_id.in_(list(supplier_ids))),
    )
    with Session(engine) as session:
        return {(b, s) for b, s in session.execute(query)}


def hidden_firms(engine: Engine) -> set[str]:
    """Firms unlisted or deleted in the database: kept off every match list unless pinned."""
    query = select(Firm.firm_id).where(or_(Firm.listed.is_(False), Firm.deleted_at.is_not(None)))
    with Session(engine) as session:
        return set(session.scalars(query))


def missing_firms(engine: Engine, firm_ids: Iterable[str]) -> list[str]:
    """The ids, sorted, that name no live (undeleted) firm in the database."""
    named = sorted(set(firm_ids))
    query = select(Firm.firm_id).where(Firm.firm_id.in_(named), Firm.deleted_at.is_(None))
    with Session(engine) as session:
        live = set(session.scalars(query))
    return [f for f in named if f not in live]


def match_list_rankings(engine: Engine) -> pd.DataFrame:
    """Every pair that a saved match list ranked, with its best rank and when that list was
    made: the recommendations the conversion report credits (``programme.conversion_report``).

    A pair ranked in several lists keeps one row per list-creation time, so that a ranking
    made after the pair's first outcome can be told apart and left out. Both sides count: a
    supplier ranked for a buyer, and a buyer ranked for a supplier.

    Returns
    -------
    DataFrame
        ``buyer_id, supplier_id, rank, as_of`` (UTC).
    """
    query = (
        select(
            MatchListRow.buyer_id,
            MatchListRow.supplier_id,
            func.min(MatchListRow.rank).label("rank"),
            MatchList.created_at.label("as_of"),
        )
        .join(MatchList, MatchList.id == MatchListRow.match_list_id)
        .group_by(MatchListRow.buyer_id, MatchListRow.supplier_id, MatchList.created_at)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    frame = pd.DataFrame(rows, columns=["buyer_id", "supplier_id", "rank", "as_of"])
    frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True)
    return frame
