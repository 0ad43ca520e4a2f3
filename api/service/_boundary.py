"""Text at the door: every request's path, query and JSON body in Unicode NFC, without NUL.

Vietnamese text arrives precomposed (NFC, what keyboards on Windows type) and decomposed (NFD,
what macOS file names and some phones send); the data contract stores NFC, so an NFD sector
filter found nothing and an NFD id was refused as if it had a bad character. A NUL character
(U+0000) is no text anyone means to send, and PostgreSQL cannot store it (a 500 there, stored
as is on SQLite). Both are dealt with here, once, before any route sees the request:

- a NUL anywhere in the path, a query parameter or a JSON string is refused with 422, in the
  shape of every validation error, naming the field (``query.sector``, ``body.name``,
  ``path.firm_id``);
- everything else is normalised to NFC: the path and the query string are rewritten, and a
  JSON body with text that is not NFC is re-encoded (its ``Content-Length`` with it).

A pure ASGI middleware, so that a body it does not need to touch (an upload) streams through.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ketnoi.api.service._schemas import UNPROCESSABLE

__all__ = ["NUL_MESSAGE", "RequestText"]

#: The reason given for a field holding NUL.
NUL_MESSAGE = "text may not hold a NUL character (U+0000)"
_NFC: Final = "NFC"


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized(_NFC, text) else unicodedata.normalize(_NFC, text)


def _refusal(locations: list[list[str]]) -> JSONResponse:
    # The same shape as a FastAPI validation error (see ``_app._validation_error``).
    errors = [{"loc": loc, "msg": NUL_MESSAGE, "type": "nul_character"} for loc in locations]
    detail = "; ".join(
        ".".join(p for p in loc if p != "body") + f": {NUL_MESSAGE}" for loc in locations
    )
    return JSONResponse({"detail": detail, "errors": errors}, status_code=UNPROCESSABLE)


def _path_field(scope: Scope) -> str:
    """The name of the path parameter holding NUL (``path`` where no documented route matches).

    Matched against the OpenAPI document's path templates (built once, then cached by
    FastAPI), which, unlike the router's internals, are the same in every FastAPI version.
    """
    app = scope.get("app")
    openapi = getattr(app, "openapi", None)
    if openapi is None:
        return "path"
    for template in openapi().get("paths", {}):
        match = compile_path(template)[0].match(scope["path"])
        if match is None:
            continue
        for name, value in match.groupdict().items():
            if "\x00" in value:
                return name
    return "path"


def _walk(value: Any, loc: list[str], found: list[list[str]]) -> Any:
    """``value`` with every string (keys too) in NFC; the places of NUL go in ``found``."""
    if isinstance(value, str):
        if "\x00" in value:
            found.append(loc)
        return _nfc(value)
    if isinstance(value, list):
        return [_walk(v, [*loc, str(i)], found) for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if "\x00" in key:
                found.append([*loc, key])
            out[_nfc(key)] = _walk(item, [*loc, key], found)
        return out
    return value


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = value.split(b";")[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return False


class RequestText:
    """ASGI middleware: NFC paths, queries and JSON bodies; 422 for NUL in any of them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        path = scope["path"]
        if "\x00" in path:
            await _refusal([["path", _path_field(scope)]])(scope, receive, send)
            return
        scope["path"] = _nfc(path)
        query = scope.get("query_string", b"")
        if query:
            # As Starlette reads it: percent escapes are UTF-8.
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            bad = [["query", _nfc(k)] for k, v in pairs if "\x00" in k or "\x00" in v]
            if bad:
                await _refusal(bad)(scope, receive, send)
                return
            if not all(unicodedata.is_normalized(_NFC, k + v) for k, v in pairs):
                normal = [(_nfc(k), _nfc(v)) for k, v in pairs]
                scope["query_string"] = urlencode(normal).encode("ascii")
        if scope.get("method") in {"POST", "PUT", "PATCH"} and _is_json(scope):
            await self._json(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _json(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        # Plain ASCII without escapes is NFC and NUL-free (a raw NUL is not valid JSON).
        if body.isascii() and b"\\u" not in body:
            await self.app(scope, _replay([_whole(body)], receive), send)
            return
        try:
            value = json.loads(body)
        except ValueError:  # not JSON: FastAPI gives the 422 it gives today
            await self.app(scope, _replay([_whole(body)], receive), send)
            return
        found: list[list[str]] = []
        normal = _walk(value, ["body"], found)
        if found:
            await _refusal(found)(scope, receive, send)
            return
        if normal != value:
            body = json.dumps(normal, ensure_ascii=False).encode("utf-8")
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
            scope["headers"] = [*headers, (b"content-length", str(len(body)).encode())]
        await self.app(scope, _replay([_whole(body)], receive), send)


def _whole(body: bytes) -> Message:
    return {"type": "http.request", "body": body, "more_body": False}


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out ``messages`` first, then waits on the real one (for the
    client's disconnect)."""
    queue = list(messages)

    async def replayed() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replayed
