"""Health, the served model and its retraining, and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from ketnoi.api.service._deps import (
    EngineDep,
    HolderDep,
    PageQuery,
    ReaderKey,
    SettingsDep,
    StaffKey,
)
from ketnoi.api.service._holder import ServedModel, fit_served_model
from ketnoi.api.service._schemas import MAX_ID, Page
from ketnoi.api.service._schemas_service import AuditPublic, Health, ModelInfo
from ketnoi.api.storage import audit_entries

__all__ = ["router"]

router = APIRouter(prefix="/v1")


@router.get("/health", response_model=Health, tags=["service"], summary="Is the service up")
def health(holder: HolderDep) -> dict[str, Any]:
    """The only route open without a key."""
    served = holder.current
    return {
        "status": "ok",
        "model_loaded": served is not None,
        "model_version": served.version if served else None,
    }


def _model_info(holder: Any) -> dict[str, Any]:
    served: ServedModel | None = holder.current
    return {
        "version": served.version if served else None,
        "trained_at": served.trained_at if served else None,
        "mode": served.matcher.mode_ if served else None,
        "ranker": getattr(served.matcher, "ranker_", None) if served else None,
        "selection": getattr(served.matcher, "selection_", []) if served else [],
        "ease_l2": getattr(served.matcher, "ease_l2_", None) if served else None,
        "training_fingerprint": served.fingerprint if served else None,
        "metrics": served.metrics if served else {},
        "retraining": holder.retraining,
        "last_error": holder.last_error,
    }


@router.get("/model", response_model=ModelInfo, tags=["model"], summary="The served model")
def model_info(holder: HolderDep, key: ReaderKey) -> dict[str, Any]:
    """Version, when trained, its figures, and whether a retraining runs (staff, analyst)."""
    return _model_info(holder)


@router.post(
    "/model/retrain",
    response_model=ModelInfo,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["model"],
    summary="Retrain in the background",
)
def retrain(
    holder: HolderDep, engine: EngineDep, settings: SettingsDep, key: StaffKey
) -> dict[str, Any]:
    """Fit a new model on the database's current rows in the background (staff).

    The old model keeps serving; the new one replaces it whole when it is ready (a new
    ``version`` in ``GET /v1/model``). 409 while a retraining already runs.
    """

    def fit() -> ServedModel:
        return fit_served_model(
            engine, precompute=settings.precompute, evaluate=settings.evaluate, actor=key
        )

    if not holder.start_retrain(fit):
        raise HTTPException(status.HTTP_409_CONFLICT, "a retraining is already running")
    return _model_info(holder)


@router.get("/audit", response_model=Page[AuditPublic], tags=["audit"], summary="The audit log")
def audit_log(
    engine: EngineDep,
    key: ReaderKey,
    paging: PageQuery,
    entity: Annotated[str | None, Query(max_length=MAX_ID)] = None,
) -> dict[str, Any]:
    """Every write, newest first: who, when, what (staff, analyst)."""
    found = audit_entries(engine, paging.page, paging.page_size, entity)
    return paging.answer(found.rows, found.total)
