"""The FastAPI application: the model loaded in ``lifespan``, routers, and JSON errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from ketnoi import graph, matcher
from ketnoi.api.service import (
    _routes_capabilities,
    _routes_demands,
    _routes_events,
    _routes_feedback,
    _routes_firms,
    _routes_imports,
    _routes_introductions,
    _routes_jobs,
    _routes_links,
    _routes_match_lists,
    _routes_model,
    _routes_outcomes,
    _routes_programme,
    _routes_recommend,
    _routes_reference,
    _routes_resolution,
)
from ketnoi.api.service._aliases import FirmAliases
from ketnoi.api.service._boundary import RequestText
from ketnoi.api.service._holder import (
    ModelHolder,
    ServedModel,
    fit_served_model,
    served_from_matcher,
)
from ketnoi.api.service._jobs import JobRunner
from ketnoi.api.service._schemas import UNPROCESSABLE, pattern_words
from ketnoi.api.service._settings import ServiceSettings
from ketnoi.api.storage import (
    Busy,
    Conflict,
    Invalid,
    NotFound,
    is_locked,
    make_engine,
    upgrade,
)
from ketnoi.graph._version import ketnoi_version

__all__ = ["create_app"]

log = logging.getLogger("ketnoi.service")

DESCRIPTION = """\
Tiered supplier-buyer recommendations, with reasons, over the ketnoi database.

Every route but `GET /v1/health` needs an API key, in `Authorization: Bearer <key>` or
`X-API-Key: <key>`. Roles: **staff** (everything), **analyst** (read everything, change nothing),
**firm** (its own profile, demands and recommendations; other firms' public fields only).

Writes are audited and take effect in the database at once; the served model keeps serving
until staff retrain it (`POST /v1/model/retrain`), which swaps the new model in whole.
"""


def _initial_model(engine: Engine, settings: ServiceSettings) -> ServedModel | None:
    try:
        return fit_served_model(engine, precompute=settings.precompute, evaluate=settings.evaluate)
    except (graph.DatasetError, ValueError) as exc:
        # An empty or not yet loaded database: serve without a model until a retrain.
        log.warning("no model fitted at start-up: %s", exc)
        return None


def _message(error: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "request"
    return f"{where}: {_words(error)}"


def _words(error: dict[str, Any]) -> str:
    # A pattern the schema publishes for generated clients, said in words for people.
    pattern = (error.get("ctx") or {}).get("pattern")
    words = pattern_words(str(pattern)) if error.get("type") == "string_pattern_mismatch" else None
    return words or str(error.get("msg", "invalid"))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": _words(e), "type": e["type"]}
        for e in exc.errors()
    ]
    detail = "; ".join(_message(e) for e in exc.errors()) or "invalid request"
    return JSONResponse({"detail": detail, "errors": errors}, status_code=UNPROCESSABLE)


def _handler(code: int) -> Any:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc.args[0]) if exc.args else str(exc)}, code)

    return handle


#: What a client is told of a failure inside the service: the cause is in the server's log.
SERVER_ERROR = "the service failed on this request (the error is logged); try again later"


def _busy_response(retry_after: int, detail: str) -> JSONResponse:
    return JSONResponse(
        {"detail": detail},
        status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(retry_after)},
    )


async def _busy(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Busy)
    return _busy_response(exc.retry_after, str(exc))


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    # Lock errors outside a write transaction (a read behind a checkpoint, say) wait too.
    if is_locked(exc):
        return _busy_response(5, "the database is busy with another write; try again in 5 s")
    # Handled here, so nobody else logs it.
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return await _server_error(request, exc)


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    # The documented error shape holds for 500s too; no traceback or SQL reaches the client.
    # (Starlette's outermost middleware sends this, then re-raises for the server to log.)
    return JSONResponse({"detail": SERVER_ERROR}, status.HTTP_500_INTERNAL_SERVER_ERROR)


def create_app(
    settings: ServiceSettings | None = None,
    *,
    engine: Engine | None = None,
    matcher: matcher.Matcher | None = None,
    served: ServedModel | None = None,
) -> FastAPI:
    """The ketnoi HTTP service.

    Parameters
    ----------
    settings : ServiceSettings, optional
        Default: read from ``KETNOI_*`` environment variables.
    engine : Engine, optional
        The database (migrated at start-up). Default: :func:`api.storage.make_engine` on the
        settings' ``database_url`` and ``data_dir``.
    matcher : matcher.Matcher, optional
        A fitted matcher to serve. Default: fitted at start-up on the database's rows.
    served : ServedModel, optional
        A model already fitted and registered (:func:`fit_served_model`), served as it is: the
        workers of ``ketnoi serve --workers`` share the one their parent fitted.

    Examples
    --------
    >>> from fastapi.testclient import TestClient
    >>> from ketnoi.api.storage import make_engine
    >>> with TestClient(create_app(engine=make_engine("sqlite://"))) as client:
    ...     client.get("/v1/health").json()["status"]
    'ok'
    """
    settings = settings or ServiceSettings()
    given_engine, given_matcher, given_served = engine, matcher, served

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = given_engine or make_engine(settings.database_url, settings.data_dir)
        upgrade(engine)
        _routes_imports.clean_stale_uploads()
        served: ServedModel | None
        if given_served is not None:
            served = given_served
        elif given_matcher is not None:
            served = served_from_matcher(given_matcher)
        else:
            served = _initial_model(engine, settings)
        app.state.settings = settings
        app.state.engine = engine
        app.state.holder = ModelHolder(served)
        app.state.jobs = JobRunner(engine)
        app.state.jobs.start()
        try:
            yield
        finally:
            app.state.jobs.stop()
            app.state.holder.wait(timeout=60)
            if given_engine is None:
                engine.dispose()

    app = FastAPI(
        title="ketnoi",
        summary="Supply-chain linkage matching",
        description=DESCRIPTION,
        version=ketnoi_version(),
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(NotFound, _handler(status.HTTP_404_NOT_FOUND))
    app.add_exception_handler(Conflict, _handler(status.HTTP_409_CONFLICT))
    app.add_exception_handler(Invalid, _handler(UNPROCESSABLE))
    app.add_exception_handler(Busy, _busy)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(Exception, _server_error)
    # Added first, so that it runs after RequestText (the last added runs first): ids in NFC.
    app.add_middleware(FirmAliases)
    app.add_middleware(RequestText)
    for module in (
        _routes_model,
        _routes_recommend,
        _routes_firms,
        _routes_demands,
        _routes_reference,
    ):
        app.include_router(module.router)
    app.include_router(_routes_links.router)
    app.include_router(_routes_capabilities.router)
    app.include_router(_routes_outcomes.router)
    app.include_router(_routes_match_lists.router)
    app.include_router(_routes_imports.router)
    app.include_router(_routes_events.router)
    app.include_router(_routes_programme.router)
    app.include_router(_routes_feedback.router)
    app.include_router(_routes_jobs.router)
    app.include_router(_routes_resolution.router)
    app.include_router(_routes_introductions.router)
    from ketnoi.api.pages import install  # the workbench's pages (they import this package)

    install(app)
    return app
