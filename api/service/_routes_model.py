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
from ketnoi.api.service._holder import RETRAIN_STEPS, ServedModel, fit_served_model
from ketnoi.api.service._jobs import JobResult, Progress, RunnerDep, accepted
from ketnoi.api.service._routes_jobs import ACCEPTED
from ketnoi.api.service._schemas import MAX_ID, Error, Page
from ketnoi.api.service._schemas_jobs import JobPublic
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
    response_model=JobPublic,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**ACCEPTED, 409: {"model": Error}},
    tags=["model"],
    summary="Retrain as a job",
)
def retrain(
    holder: HolderDep, engine: EngineDep, settings: SettingsDep, runner: RunnerDep, key: StaffKey
) -> Any:
    """Fit a new model on the database's current rows, as a job (staff): ``202`` with the job
    and ``Location: /v1/jobs/{id}``.

    The old model keeps serving; the new one replaces it whole when it is ready (a new
    ``version`` in ``GET /v1/model``). 409 while a retraining already runs.
    """
    if not holder.claim_retrain():
        raise HTTPException(status.HTTP_409_CONFLICT, "a retraining is already running")

    def work(progress: Progress) -> JobResult:
        def fit() -> ServedModel:
            return fit_served_model(
                engine,
                precompute=settings.precompute,
                evaluate=settings.evaluate,
                actor=key,
                progress=progress.step,
            )

        served = holder.retrain(fit)
        body = {"version": served.version, "trained_at": served.trained_at}
        return JobResult(body={**body, "fingerprint": served.fingerprint})

    try:
        job = runner.submit("retrain", key, work, step=RETRAIN_STEPS[0])
    except BaseException:
        holder.release_retrain()
        raise
    return accepted(job, runner)


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
