"""Shared dependencies of the routes: the engine, the served model, the caller's key, paging.

Keys come in ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. A missing or invalid
key is a 401; a valid key outside the route's roles is a 403.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from ketnoi import graph
from ketnoi.api.service._access import is_reader
from ketnoi.api.service._holder import ModelHolder, ServedModel
from ketnoi.api.service._schemas import MAX_ID, MAX_PAGE, MAX_PAGE_SIZE
from ketnoi.api.service._settings import ServiceSettings
from ketnoi.api.storage import KeyInfo, dataset_from_db, utcnow, verify_key, write_generation

__all__ = [
    "AnyKey",
    "DatasetDep",
    "EngineDep",
    "Filter",
    "HolderDep",
    "IdPath",
    "PageQuery",
    "Paging",
    "ReaderKey",
    "ServedDep",
    "SettingsDep",
    "StaffKey",
]

_MAX_KEY_LENGTH = 200

bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer kn_...`")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: kn_...`")


# The dependencies that only read app.state are coroutines: FastAPI runs a plain ``def``
# dependency in its thread pool, and each such hand-off (a wake-up of a worker thread and one of
# the event loop) cost more than the recommendation itself (issue 16's profile under load).
async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_holder(request: Request) -> ModelHolder:
    holder: ModelHolder = request.app.state.holder
    return holder


async def get_settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


EngineDep = Annotated[Engine, Depends(get_engine)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]

# The database's rows as a dataset, per engine, with the write generation they were read at.
# A write by any process moves the generation (within GENERATION_POLL_SECONDS for another
# process's), so the dataset is read again exactly when the rows changed, never on time alone.
# The engine is held weakly and compared, so that a new engine at a freed id is never served
# another database's rows.
_dataset_cache: dict[int, tuple[weakref.ref[Any], int, graph.Dataset]] = {}
_dataset_lock = threading.Lock()


def get_dataset(engine: EngineDep) -> graph.Dataset:
    """The database's live rows as a validated dataset, for reports that read the data as it
    is now rather than as the served model saw it (localisation, indicators, events)."""
    generation = write_generation(engine)
    hit = _dataset_cache.get(id(engine))
    if hit is not None and hit[0]() is engine and hit[1] == generation:
        return hit[2]
    with _dataset_lock:  # one read at a time; a request that waited finds it done
        generation = write_generation(engine)
        hit = _dataset_cache.get(id(engine))
        if hit is not None and hit[0]() is engine and hit[1] == generation:
            return hit[2]
        try:
            dataset = dataset_from_db(engine)
        except graph.DatasetError as exc:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"the database does not hold a valid dataset yet: {exc}",
            ) from None
        _dataset_cache[id(engine)] = (weakref.ref(engine), generation, dataset)
        return dataset


DatasetDep = Annotated[graph.Dataset, Depends(get_dataset)]


def get_served(holder: HolderDep) -> ServedModel:
    """The model serving now, read once for the whole request (503 without one)."""
    served = holder.current
    if served is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "no model is loaded yet: load data into the database and retrain",
        )
    return served


async def _served_now(holder: HolderDep) -> ServedModel:
    # get_served as a coroutine for Depends (pages call get_served itself).
    return get_served(holder)


ServedDep = Annotated[ServedModel, Depends(_served_now)]


def _unauthorised(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"}
    )


#: Seconds a verified key is trusted without asking the database again. A revocation is a
#: counted write, so a key revoked through any process is refused once the write generation
#: moves: at once through this process, within ``GENERATION_POLL_SECONDS`` through another.
KEY_CACHE_SECONDS = 5.0
_key_cache: dict[tuple[int, str], tuple[float, int, KeyInfo | None]] = {}


def _remembered(engine: Any, plaintext: str) -> tuple[bool, KeyInfo | None]:
    """Whether the key's check is still in the cache, and its result (no database call)."""
    hit = _key_cache.get((id(engine), plaintext))
    if (
        hit is not None
        and hit[1] == write_generation(engine)
        and time.monotonic() - hit[0] < KEY_CACHE_SECONDS
    ):
        return True, hit[2]
    return False, None


def _verified(engine: Any, plaintext: str) -> KeyInfo | None:
    known, info = _remembered(engine, plaintext)
    if not known:
        now, generation = time.monotonic(), write_generation(engine)
        info = verify_key(engine, plaintext)
        if len(_key_cache) > 10_000:
            _key_cache.clear()
        _key_cache[(id(engine), plaintext)] = (now, generation, info)
    return _unexpired(info)


def _unexpired(info: KeyInfo | None) -> KeyInfo | None:
    if info is not None and info.expires_at is not None and info.expires_at <= utcnow():
        return None
    return info


def _plaintext(credentials: HTTPAuthorizationCredentials | None, header_key: str | None) -> str:
    plaintext = credentials.credentials if credentials is not None else header_key
    if not plaintext:
        raise _unauthorised(
            "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
        )
    return plaintext


_INVALID_KEY = "the API key is not valid (unknown, expired or revoked)"


def current_key(
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    header_key: Annotated[str | None, Depends(api_key_header)],
) -> KeyInfo:
    """The caller's valid key (401 when missing, unknown, expired or revoked)."""
    plaintext = _plaintext(credentials, header_key)
    info = None if len(plaintext) > _MAX_KEY_LENGTH else _verified(engine, plaintext.strip())
    if info is None:
        raise _unauthorised(_INVALID_KEY)
    return info


async def _current_key_now(
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    header_key: Annotated[str | None, Depends(api_key_header)],
) -> KeyInfo:
    # current_key as a coroutine for Depends: a key checked in the last few seconds is answered
    # from memory on the event loop; only a database check goes to the thread pool (pages call
    # current_key itself).
    plaintext = _plaintext(credentials, header_key)
    info = None
    if len(plaintext) <= _MAX_KEY_LENGTH:
        known, info = _remembered(engine, plaintext.strip())
        if known:
            info = _unexpired(info)
        else:
            info = await run_in_threadpool(_verified, engine, plaintext.strip())
    if info is None:
        raise _unauthorised(_INVALID_KEY)
    return info


AnyKey = Annotated[KeyInfo, Depends(_current_key_now)]


def require_reader(key: AnyKey) -> KeyInfo:
    if not is_reader(key):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs a staff or analyst key")
    return key


def require_staff(key: AnyKey) -> KeyInfo:
    if key.role != "staff":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this needs a staff key")
    return key


async def _reader_now(key: AnyKey) -> KeyInfo:
    # The role checks as coroutines for Depends (pages call the plain functions).
    return require_reader(key)


async def _staff_now(key: AnyKey) -> KeyInfo:
    return require_staff(key)


ReaderKey = Annotated[KeyInfo, Depends(_reader_now)]
StaffKey = Annotated[KeyInfo, Depends(_staff_now)]


#: A firm, category, park or link key in a path, and an id filter in a query: bounded, as every
#: parameter is, and shared by the route modules.
IdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID)]
Filter = Annotated[str | None, Query(min_length=1, max_length=MAX_ID)]


@dataclass(frozen=True)
class Paging:
    """Which page of a list the caller asked for (``?page=&page_size=``)."""

    page: int
    page_size: int

    def answer(self, items: list[Any], total: int) -> dict[str, Any]:
        """The response body of a paged list: the items, the total, and this page."""
        return {"items": items, "total": total, "page": self.page, "page_size": self.page_size}


def get_paging(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> Paging:
    return Paging(page, page_size)


#: ``page`` (from 1) and ``page_size`` (1-200, default 50) of every list route.
PageQuery = Annotated[Paging, Depends(get_paging)]
