"""Answers served as bytes: a recommendation answer is computed and serialised once, then reused.

The recommendation routes ask :func:`answer`, which keys each answer on the question itself:
the service function asked, every argument it is called with (the path's firms and every query
parameter, as validated), and the caller's role and firm. The same arguments that compute the
answer make its key, so no parameter can change an answer without changing its key, and a
caller is never served an answer made for another role or firm.

An answer is reused only while nothing it rests on can have changed:

- the served model: the cache belongs to the :class:`~._holder.ServedModel` it answers from
  (:meth:`AnswerCache.of`), so a model swap starts an empty one;
- the database: an answer is kept with the database's write generation
  (:func:`~ketnoi.api.storage.write_generation`, moved by every committed write of any process:
  a firm, demand, capability, certification, link, outcome, key or confidentiality change; a
  write by another process, such as another worker or the CLI, is seen within
  :data:`~ketnoi.api.storage.GENERATION_POLL_SECONDS`) and is not reused after it moves; and it
  is not stored at all while the live model is still bound to the rows of an earlier generation
  (:mod:`._live` rebinds at most every few seconds), so a firm created after the fit is scored
  live and an answer is never older than the uncached path's;
- time: an answer is reused for at most :data:`ANSWER_CACHE_SECONDS` all the same.

Who may ask is checked before the cache is read, on every request: the key (by the route's
dependency) and :func:`~._access.ensure_own_firm`. Errors are never stored. Requests that miss
on the same question while its answer is being made wait for that one answer.

A cached answer skips the thread pool, the service function and the response model's
validation: the bytes are validated and serialised once, by the route's own response model,
when the answer is made (issue 16, docs/performance.md "The request path").
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from fastapi import Response
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from ketnoi.api.service._access import ensure_own_firm
from ketnoi.api.service._holder import ServedModel
from ketnoi.api.service._live import live_matcher
from ketnoi.api.storage import KeyInfo, write_generation

__all__ = ["ANSWER_CACHE_SECONDS", "ANSWER_CACHE_SIZE", "AnswerCache", "answer"]

#: Seconds an answer is reused at most (writes by other processes show after this long).
ANSWER_CACHE_SECONDS = 2.0
#: Answers kept per served model, least recently used out.
ANSWER_CACHE_SIZE = 2048

_adapters: dict[type[BaseModel], TypeAdapter[Any]] = {}
_owners_lock = threading.Lock()


class AnswerCache:
    """Serialised answers of one served model, keyed by question and caller.

    Parameters
    ----------
    size : int
        The most answers kept (least recently used out).
    seconds : float, optional
        The most seconds an answer is reused (default :data:`ANSWER_CACHE_SECONDS`).
    """

    def __init__(self, size: int = ANSWER_CACHE_SIZE, seconds: float | None = None) -> None:
        self.size = size
        self.seconds = ANSWER_CACHE_SECONDS if seconds is None else seconds
        self._entries: OrderedDict[Hashable, tuple[int, float, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        #: Answers being made, by (key, write generation): read and written on the event loop.
        self.making: dict[Hashable, asyncio.Future[bytes]] = {}

    @staticmethod
    def of(served: ServedModel) -> AnswerCache:
        """The cache of ``served`` (made on first use; dropped with the model)."""
        # Kept in the model's own __dict__ (a frozen dataclass, so not through setattr), so that
        # it lives and dies with the model and a swap starts an empty one.
        cache: AnswerCache | None = served.__dict__.get("_answers")
        if cache is None:
            with _owners_lock:
                cache = served.__dict__.setdefault("_answers", AnswerCache())
        return cache

    def get(self, key: Hashable, generation: int) -> bytes | None:
        """The answer stored under ``key``, if it is of write generation ``generation`` and
        recent."""
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            if hit[0] != generation or time.monotonic() - hit[1] >= self.seconds:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return hit[2]

    def put(self, key: Hashable, generation: int, body: bytes) -> None:
        """Store ``body`` as the answer of write generation ``generation``."""
        with self._lock:
            self._entries[key] = (generation, time.monotonic(), body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _adapter(model: type[BaseModel]) -> TypeAdapter[Any]:
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters.setdefault(model, TypeAdapter(model))
    return adapter


def _made(
    served: ServedModel,
    engine: Engine,
    key: KeyInfo,
    model: type[BaseModel],
    function: Callable[..., dict[str, Any]],
    firms: tuple[str, ...],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    generation: int,
) -> tuple[bytes, bool]:
    """The answer's bytes, and whether they may be stored: the live model is bound to the rows
    of ``generation``, the write generation read before the answer was made (an answer made
    after a later write is stored under the older one, where nobody asks for it)."""
    current = live_matcher(served, engine, firms).generation == generation
    data = function(served, engine, key, *args, **kwargs)
    adapter = _adapter(model)
    # As FastAPI would: validated by the response model, then its JSON (by alias).
    body = adapter.dump_json(adapter.validate_python(data), by_alias=True)
    return body, current


async def answer(
    served: ServedModel,
    engine: Engine,
    key: KeyInfo,
    model: type[BaseModel],
    function: Callable[..., dict[str, Any]],
    *args: Any,
    firms: tuple[str, ...],
    **kwargs: Any,
) -> Response:
    """``function(served, engine, key, *args, **kwargs)`` as a JSON response of ``model``,
    from the cache when the same caller asked the same question since the last write.

    Parameters
    ----------
    served, engine, key
        The model serving the request, the database and the caller's key.
    model : pydantic model
        The route's response model.
    function : callable
        The service function of :mod:`._recommendations` that answers the question.
    *args, **kwargs
        Its arguments: all of them make the cache key.
    firms : tuple of str
        The firms the question names, for :func:`~._access.ensure_own_firm`.
    """
    ensure_own_firm(key, *firms)
    cache = AnswerCache.of(served)
    entry = (
        function.__qualname__,
        key.role,
        key.firm_id,
        args,
        tuple(sorted(kwargs.items())),
    )
    generation = write_generation(engine)
    cached = cache.get(entry, generation)
    if cached is not None:
        return Response(cached, media_type="application/json")
    # One answer made at a time per question and generation: the requests that miss while it
    # is made wait for it, rather than each making its own in the thread pool (a burst of
    # identical misses, each slowed by the others, when an answer expires under load).
    making = cache.making.get((entry, generation))
    if making is None:
        making = asyncio.ensure_future(
            _make(
                cache, entry, generation, served, engine, key, model, function, firms, args, kwargs
            )
        )
        cache.making[(entry, generation)] = making
    # Shielded: a client that goes away does not cancel the answer the others wait for.
    body = await asyncio.shield(making)
    return Response(body, media_type="application/json")


async def _make(
    cache: AnswerCache,
    entry: Hashable,
    generation: int,
    served: ServedModel,
    engine: Engine,
    key: KeyInfo,
    model: type[BaseModel],
    function: Callable[..., dict[str, Any]],
    firms: tuple[str, ...],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> bytes:
    try:
        body, current = await run_in_threadpool(
            _made, served, engine, key, model, function, firms, args, kwargs, generation
        )
        if current:
            cache.put(entry, generation, body)
        return body
    finally:
        cache.making.pop((entry, generation), None)
