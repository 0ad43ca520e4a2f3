"""Trained models and saved match lists, each tied to the model version and data that made it."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ketnoi.api.storage._audit import record
from ketnoi.api.storage._engine import transaction
from ketnoi.api.storage._keys import KeyInfo
from ketnoi.api.storage._models import MatchList, MatchListRow, ModelRecord

__all__ = ["match_list_rankings", "register_model", "save_match_list"]


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


def save_match_list(
    engine: Engine,
    recommendations: pd.DataFrame,
    *,
    model_version: str,
    data_fingerprint: str,
    k: int | None = None,
    label: str = "",
    actor: KeyInfo | str = "cli",
) -> int:
    """Save a match list (a frame like ``Matcher.match_list`` returns); returns its id.

    Parameters
    ----------
    recommendations : DataFrame
        Columns ``buyer_id, supplier_id, category_id, tier, rank, score, reasons``.
    model_version, data_fingerprint : str
        The model (``Matcher.version_``) and data (``Dataset.fingerprint()``) that made it.
    """

    def row(cells: dict[str, Any]) -> MatchListRow:
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
        )

    records = recommendations.to_dict("records")

    def work(session: Session) -> int:
        rows = [row(cells) for cells in records]  # fresh objects should a retry run this again
        saved = MatchList(
            model_version=model_version,
            data_fingerprint=data_fingerprint,
            k=k,
            label=label,
            created_by=actor if isinstance(actor, str) else f"key:{actor.id}",
            rows=rows,
        )
        session.add(saved)
        session.flush()
        detail = {"rows": len(records), "model_version": model_version}
        detail["data_fingerprint"] = data_fingerprint
        record(session, actor, "create", "match_lists", str(saved.id), detail)
        return saved.id

    return transaction(engine, work)


def match_list_rankings(engine: Engine) -> pd.DataFrame:
    """Every pair that a saved match list ranked, with its best rank and when that list was
    made: the recommendations the conversion report credits (``matcher.conversion_report``).

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
