"""Merged firms' ids at the door: an alias names the firm it was merged into, on every route.

A merge leaves the absorbed firm's id behind as an alias (docs/register.md). Rather than teach
each route to look it up, every request's firm ids are mapped here, once, before any route (or
page) sees them: a path parameter, a query parameter or a JSON or form field named
``firm_id``, ``buyer_id`` or ``supplier_id`` (and each id of ``buyer_ids`` and
``supplier_ids``, as a match list takes them) that is an alias becomes the firm it names now.
The route then answers exactly as it answers for that firm, with the same disclosure rules.

What was decided, and why (docs/register.md, "Merged ids"):

- **An answer, not a redirect.** A ``308`` to the survivor's URL would name the survivor in its
  ``Location`` to any caller, even a firm key that may not know the survivor exists (an
  unlisted firm): what a hidden firm answers must be what an absent one does. A mapped request
  answers with the survivor's data, as ``GET /v1/firms/{id}`` always did.
- **An answer that is not a success names the id as asked.** A ``404`` for a survivor the key
  may not see would otherwise say the survivor's id ("no firms row 'S9'"); here the survivor's
  id in the body and ``Location`` of any answer other than a 2xx is put back to the alias, so
  that an alias of a hidden firm answers as an absent id does.
- **Keys stay with the firm they were made for.** A key made for the absorbed firm is not a key
  of the survivor (a merge made by mistake must not open one firm's confidential demands to
  another's key): asking by its old id, it is answered as any other firm's key about the
  survivor.
- **Not mapped**: a saved event's agendas (an event keeps its participants as planned, so its
  agenda is asked by the id it was planned with); a new firm's ``firm_id`` (``POST /v1/firms``);
  entity resolution's own routes, which speak of the register as it is.

The alias table is read whole and kept in memory, keyed on the database's write generation: a
merge through this process is seen at the next request, one by another process (the CLI,
another worker) once the generation is read again (``storage.GENERATION_POLL_SECONDS``), and in
any case after :data:`ALIAS_CACHE_SECONDS`. Without any alias nothing is
parsed: a request passes through untouched.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ketnoi.api.storage import firm_aliases, write_generation

__all__ = ["ALIAS_CACHE_SECONDS", "FIRM_FIELDS", "FIRM_LISTS", "FirmAliases", "NOT_MAPPED"]

#: Seconds the alias table is trusted without reading it again (a merge by another process).
ALIAS_CACHE_SECONDS = 5.0
#: Parameter and field names that hold one firm's id.
FIRM_FIELDS = frozenset({"firm_id", "buyer_id", "supplier_id"})
#: Field names that hold a list of firm ids.
FIRM_LISTS = frozenset({"buyer_ids", "supplier_ids"})
#: Route templates whose firm ids are left as sent (see the module notes).
NOT_MAPPED = frozenset(
    {
        "/v1/firms",
        "/v1/events/{event_id}/agendas/{firm_id}",
        "/v1/events/{event_id}/agendas/{firm_id}/print",
        "/events/{event_id}/agendas/{firm_id}",
    }
)
_NOT_MAPPED_PREFIXES = ("/v1/resolution", "/duplicates")
_FORM = b"application/x-www-form-urlencoded"


class _AliasCache:
    """The alias table of one engine, read again after a write or after a few seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: tuple[Engine, float, int, dict[str, str]] | None = None

    def fresh(self, engine: Engine) -> dict[str, str] | None:
        """The table if the copy held is still good (no database call), else None."""
        held = self._held
        if (
            held is not None
            and held[0] is engine
            and held[2] == write_generation(engine)
            and time.monotonic() - held[1] < ALIAS_CACHE_SECONDS
        ):
            return held[3]
        return None

    def read(self, engine: Engine) -> dict[str, str]:
        with self._lock:
            held = self.fresh(engine)
            if held is not None:
                return held
            try:
                now, generation = time.monotonic(), write_generation(engine)
                aliases = firm_aliases(engine)
            except SQLAlchemyError:
                # A database not migrated yet (or not reachable) has no aliases to map: the
                # request goes on untouched, and the route answers as it would (health, a 503).
                return {}
            self._held = (engine, now, generation, aliases)
            return aliases


class _Asked:
    """The ids mapped in one request: survivor -> the alias the caller sent for it."""

    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = aliases
        self.sent: dict[str, str] = {}
        self._clash: set[str] = set()

    def map(self, value: str) -> str:
        firm = self.aliases.get(value)
        if firm is None:
            return value
        if self.sent.setdefault(firm, value) != value:
            self._clash.add(firm)  # two aliases of one firm: which to name is unknowable
        return firm

    def back(self) -> dict[str, str]:
        return {firm: alias for firm, alias in self.sent.items() if firm not in self._clash}


def _walk(value: Any, asked: _Asked) -> Any:
    """A JSON value with every firm id field mapped."""
    if isinstance(value, list):
        return [_walk(v, asked) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for name, item in value.items():
        if name in FIRM_FIELDS and isinstance(item, str):
            out[name] = asked.map(item)
        elif name in FIRM_LISTS and isinstance(item, list):
            out[name] = [asked.map(v) if isinstance(v, str) else v for v in item]
        else:
            out[name] = _walk(item, asked)
    return out


def _pairs(pairs: Iterable[tuple[str, str]], asked: _Asked) -> list[tuple[str, str]]:
    return [(k, asked.map(v) if k in FIRM_FIELDS | FIRM_LISTS else v) for k, v in pairs]


def _content_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return bytes(value.split(b";")[0].strip().lower())
    return b""


def _with_length(headers: Iterable[tuple[bytes, bytes]], length: int) -> list[Any]:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    return [*kept, (b"content-length", str(length).encode())]


class FirmAliases:
    """ASGI middleware: every firm id in a request that is an alias becomes its firm."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._cache = _AliasCache()
        self._templates: list[tuple[str, re.Pattern[str], str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        engine = getattr(getattr(scope.get("app"), "state", None), "engine", None)
        if scope["type"] != "http" or engine is None:
            await self.app(scope, receive, send)
            return
        aliases = self._cache.fresh(engine)
        if aliases is None:
            aliases = await run_in_threadpool(self._cache.read, engine)
        if not aliases:
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        body_method = scope.get("method") in {"POST", "PUT", "PATCH"}
        if not (query or body_method or any(p in aliases for p in scope["path"].split("/"))):
            await self.app(scope, receive, send)
            return
        found = self._route(scope)
        template = found[0] if found is not None else ""
        if template in NOT_MAPPED or scope["path"].startswith(_NOT_MAPPED_PREFIXES):
            await self.app(scope, receive, send)
            return
        asked = _Asked(aliases)
        scope = dict(scope)
        if found is not None:
            self._map_path(scope, found[1], found[2], asked)
        if query:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            mapped = _pairs(pairs, asked)
            if mapped != pairs:
                scope["query_string"] = urlencode(mapped).encode("ascii")
        kind = _content_type(scope)
        if body_method and (
            kind == b"application/json" or kind.endswith(b"+json") or kind == _FORM
        ):
            receive = await self._map_body(scope, receive, asked, kind == _FORM)
        back = asked.back()
        await self.app(scope, receive, _naming(send, back) if back else send)

    def _route(self, scope: Scope) -> tuple[str, dict[str, Any], str] | None:
        """The template, path parameters and path format of the route the path names."""
        if self._templates is None:
            self._templates = [
                (template, *compile_path(template)[:2])
                for template in _templates(scope["app"].router.routes)
            ]
        root = scope.get("root_path", "")
        path = scope["path"]
        path = path[len(root) :] if root and path.startswith(root) else path
        for template, regex, path_format in self._templates:
            match = regex.match(path)
            if match is not None:
                return template, match.groupdict(), path_format
        return None

    @staticmethod
    def _map_path(scope: Scope, params: dict[str, Any], path_format: str, asked: _Asked) -> None:
        if not any(name in FIRM_FIELDS and str(v) in asked.aliases for name, v in params.items()):
            return
        values = {
            name: asked.map(str(v)) if name in FIRM_FIELDS else str(v) for name, v in params.items()
        }
        root = scope.get("root_path", "")
        prefix = root if root and scope["path"].startswith(root) else ""
        path = prefix + path_format.format(**values)
        scope["path"] = path
        scope["raw_path"] = quote(path).encode("ascii")

    async def _map_body(self, scope: Scope, receive: Receive, asked: _Asked, form: bool) -> Receive:
        chunks, tail = [], []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                tail.append(message)
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        mapped = body
        if form:
            pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
            if any(k in FIRM_FIELDS | FIRM_LISTS for k, _ in pairs):
                mapped = urlencode(_pairs(pairs, asked)).encode("ascii")
        else:
            try:
                value = json.loads(body)
            except ValueError:  # not JSON: the route's own 422
                value = None
            if value is not None:
                new = _walk(value, asked)
                if new != value:
                    mapped = json.dumps(new, ensure_ascii=False).encode("utf-8")
        if mapped is not body:
            scope["headers"] = _with_length(scope["headers"], len(mapped))
        queue: list[Message] = [{"type": "http.request", "body": mapped, "more_body": False}]
        queue += tail

        async def replayed() -> Message:
            return queue.pop(0) if queue else await receive()

        return replayed


def _templates(routes: Iterable[Any]) -> Iterator[str]:
    """The path template of every route and page, in the order the router tries them."""
    for route in routes:
        # FastAPI from 0.16x keeps an included router whole (its routes carry the full path, as
        # every router here is included without a prefix); earlier ones copy its routes in.
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _templates(inner.routes)
        elif hasattr(route, "endpoint") and isinstance(getattr(route, "path", None), str):
            yield str(route.path)


def _naming(send: Send, back: dict[str, str]) -> Send:
    """``send`` that puts the ids the caller sent back into an answer that is not a 2xx."""
    # An id is a whole token: "S1" is not rewritten inside "S10" or "hn-S1".
    pattern = re.compile(
        r"(?<![\w.-])(" + "|".join(re.escape(f) for f in sorted(back, key=len, reverse=True)) + ")"
        r"(?![\w.-])"
    )

    def rewrite(text: str) -> str:
        return pattern.sub(lambda m: back[m.group(1)], text)

    start: Message | None = None
    chunks: list[bytes] = []

    async def naming(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            if 200 <= message["status"] < 300:
                await send(message)
                return
            start = dict(message)
            return
        if start is None or message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        with contextlib.suppress(UnicodeDecodeError):  # a file, not words: as it is
            body = rewrite(body.decode("utf-8")).encode("utf-8")
        headers = [
            (k, rewrite(v.decode("latin-1")).encode("latin-1") if k.lower() == b"location" else v)
            for k, v in start.get("headers", ())
        ]
        await send({**start, "headers": _with_length(headers, len(body))})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return naming
