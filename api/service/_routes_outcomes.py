"""Outcomes: what came of a supplier-buyer pair (contacted, met, negotiating, contracted,
declined with a reason).

Outcomes are appended, never overwritten: there is no route to change or delete one, and
recording the same outcome twice keeps both. Each is kept with who recorded it (the key, as
``key:<id>/<role>``) and when, in the audit log as well as on the row (and so in a dump's
``outcomes.csv``). Staff record any outcome, a firm key the outcomes of pairs its firm is part
of; analysts read only. Staff and analysts read every outcome, a firm key those of its pairs.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from ketnoi.api.service._access import ensure_own_firm, is_reader, sees_private_data
from ketnoi.api.service._deps import AnyKey, EngineDep, Filter, PageQuery
from ketnoi.api.service._schemas import MAX_ROW_ID, Page
from ketnoi.api.service._schemas_links import OutcomeCreate, OutcomeKind, OutcomePublic
from ketnoi.api.storage import NotFound, Outcome, append_outcome, list_rows, outcome_query

__all__ = ["router"]

router = APIRouter(prefix="/v1/outcomes", tags=["outcomes"])

Row = dict[str, Any]


def _view(row: Row) -> OutcomePublic:
    extra = row.get("extra") or {}
    return OutcomePublic(
        id=row["id"],
        supplier_id=row["supplier_id"],
        buyer_id=row["buyer_id"],
        outcome=row["outcome"],
        date=row["date"],
        event_id=row["event_id"],
        reason=row["reason"],
        recorded_by=str(extra.get("recorded_by", "")),
        recorded_at=row["created_at"],
    )


@router.get("", response_model=Page[OutcomePublic], summary="List outcomes")
def list_outcomes(
    engine: EngineDep,
    key: AnyKey,
    paging: PageQuery,
    supplier_id: Filter = None,
    buyer_id: Filter = None,
    event_id: Filter = None,
    outcome: OutcomeKind | None = None,
) -> dict[str, Any]:
    """Outcomes matching every filter, oldest first (every role; a firm key sees only the
    outcomes of pairs its firm is part of)."""
    query = outcome_query(
        supplier_id=supplier_id,
        buyer_id=buyer_id,
        event_id=event_id,
        outcome=outcome,
        party=key.firm_id,
        restrict=not is_reader(key),
    )
    found = list_rows(engine, query, paging.page, paging.page_size)
    return paging.answer([_view(r) for r in found.rows], found.total)


@router.get("/{outcome_id}", response_model=OutcomePublic, summary="Get an outcome")
def get_outcome(
    outcome_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)], engine: EngineDep, key: AnyKey
) -> OutcomePublic:
    """One outcome by its id (staff, analysts, and the firms of the pair; to any other firm
    key it is absent: 404 alike, so its ids tell nothing of other firms' outcomes)."""
    rows = list_rows(engine, outcome_query().where(Outcome.id == outcome_id), 1, 1).rows
    party = bool(rows) and any(
        sees_private_data(key, rows[0][side]) for side in ("supplier_id", "buyer_id")
    )
    if not party:
        raise NotFound(f"no outcome with id {outcome_id}")
    return _view(rows[0])


@router.post(
    "",
    response_model=OutcomePublic,
    status_code=status.HTTP_201_CREATED,
    summary="Record an outcome",
)
def record_outcome(body: OutcomeCreate, engine: EngineDep, key: AnyKey) -> OutcomePublic:
    """Append an outcome of a pair, recorded with the caller's key and the time (staff for any
    pair; a firm key for a pair its firm is part of). Both firms must exist, the supplier as a
    supplier (or both), the buyer as a buyer (or both)."""
    ensure_own_firm(key, body.supplier_id, body.buyer_id, write=True)
    return _view(append_outcome(engine, body.model_dump(), key))
