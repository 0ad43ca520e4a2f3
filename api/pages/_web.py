"""What every page shares: the session and the key behind it, CSRF, forms, rendering, errors.

A page route takes one of the :data:`Page` aliases (anyone, signed in, a reader, staff): the
key's role is checked by the API's own functions (``require_reader``, ``require_staff``,
``current_key``), never a copy of them. A route then calls the same service function as its
JSON route and hands the answer to a template; :class:`PageRoute` turns the service's errors
into an HTML page with the same status code (401 into a redirect to the sign-in page).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

import jinja2
from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.background import BackgroundTask

from ketnoi import matcher
from ketnoi.api.pages._charts import year_chart
from ketnoi.api.pages._i18n import (
    LANGS,
    Translator,
    format_number,
    format_share,
    format_when,
    pick_lang,
)
from ketnoi.api.pages._session import (
    COOKIE,
    LANG_COOKIE,
    LIFETIME_SECONDS,
    Session,
    SessionStore,
)
from ketnoi.api.service._deps import require_reader, require_staff
from ketnoi.api.storage import Busy, Conflict, Invalid, KeyInfo, NotFound

__all__ = [
    "AnyPage",
    "CsrfRefused",
    "Form",
    "PageContext",
    "PageRoute",
    "ReaderPage",
    "SignInNeeded",
    "SignedInPage",
    "StaffPage",
    "page_count",
    "posted_form",
    "safe_next",
    "sessions_of",
]

#: resolve(): an editable install links each module to the repository; the templates are read
#: from beside the real file, so a reinstall rebuilding the links never hides them.
TEMPLATES = Path(__file__).resolve().with_name("templates")
#: The largest form body a page accepts (uploads have their own, larger, limit).
MAX_FORM_BYTES = 256 * 1024

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["year_chart"] = year_chart

#: Headers of every page: nothing runs but our own files, no framing, no sniffing.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class SignInNeeded(Exception):
    """The page needs a signed-in session (answered with a redirect to the sign-in page)."""


class CsrfRefused(Exception):
    """A form came without this session's CSRF token (answered 403)."""


def sessions_of(request: Request) -> SessionStore:
    """The app's session store (made by :func:`ketnoi.api.pages.install`)."""
    store: SessionStore = request.app.state.page_sessions
    return store


def safe_next(target: str | None, default: str = "/") -> str:
    """A path of this site to go on to after a form (never another site).

    Examples
    --------
    >>> safe_next("/firms?q=a"), safe_next("//evil.example"), safe_next("https://x")
    ('/firms?q=a', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@dataclass
class PageContext:
    """One page request: its session, language, words and (signed in) key."""

    request: Request
    session: Session
    key: KeyInfo | None
    lang: str
    fresh: bool = False
    lang_changed: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def t(self) -> Translator:
        return Translator(self.lang)

    @property
    def engine(self) -> Any:
        return self.request.app.state.engine

    @property
    def partial(self) -> bool:
        """Whether htmx asked for a part of the page (not a boosted whole page)."""
        request = self.request
        return "hx-request" in request.headers and "hx-boosted" not in request.headers

    # -- answers ------------------------------------------------------------------------------
    def finish(self, response: Response) -> Response:
        """Set the cookies and headers every page answer carries, and write what changed in
        the session (its language or message now; when it was seen after the answer)."""
        store = sessions_of(self.request)
        store.save(self.engine, self.session)
        if store.seen_due(self.session) and response.background is None:
            response.background = BackgroundTask(store.seen, self.engine, self.session.id)
            self.session.seen_at = None  # once per request, however often finish is called
        secure = self.request.url.scheme == "https"
        if self.fresh:
            response.set_cookie(
                COOKIE,
                self.session.id,
                max_age=LIFETIME_SECONDS,
                httponly=True,
                samesite="lax",
                secure=secure,
                path="/",
            )
        if self.lang_changed:
            year = 365 * 24 * 3600
            response.set_cookie(
                LANG_COOKIE, self.lang, max_age=year, samesite="lax", secure=secure, path="/"
            )
        response.headers.update(SECURITY_HEADERS)
        # Pages show what the key may see: never kept by a shared cache or the back button.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Vary"] = "Cookie, HX-Request"
        request = self.request
        if "hx-boosted" in request.headers and request.method == "GET":
            # A boosted form's redirect ends here: the address bar shows where it landed.
            response.headers["HX-Push-Url"] = _here(request)
        response.headers.update(self.headers)
        return response

    def names(self) -> tuple[dict[str, str], dict[str, str]]:
        """Sector, process and park names -> Vietnamese, and park ids -> names, from the
        model serving now (the glossary alone before one is loaded)."""
        served = getattr(self.request.app.state, "holder", None)
        current = getattr(served, "current", None)
        index = getattr(getattr(current, "matcher", None), "index_", None)
        if index is None:
            return dict(matcher.TERMS_VI), {}
        return index.names_vi, index.park_names

    def category_name(self, category_id: str) -> str:
        """A category's name in the page's language (its id when the model does not know it)."""
        names = getattr(self, "_category_names", None)
        if names is None:  # read once per page, not once per row
            served = getattr(self.request.app.state, "holder", None)
            model = getattr(getattr(served, "current", None), "matcher", None)
            categories = getattr(getattr(model, "dataset_", None), "categories", None)
            names = {}
            if categories is not None:
                vi = self.lang == "vi" and "name_vi" in categories
                column = categories["name_vi" if vi else "name"]
                names = dict(zip(categories["category_id"], column, strict=True))
            self._category_names = names
        return str(names.get(category_id) or category_id or "")

    def render(self, template: str, status_code: int = 200, **values: Any) -> Response:
        """``template`` rendered with the page's words, formats and user."""
        t = self.t
        lang = self.lang
        names_vi, parks = self.names()

        def term(value: str) -> str:
            return matcher.term_vi(value, lang, names_vi) if value else ""

        flash, self.session.flash = self.session.flash, ""
        body = _env.get_template(template).render(
            t=t,
            lang=lang,
            langs=LANGS,
            key=self.key,
            role=self.key.role if self.key else None,
            csrf=self.session.csrf,
            path=self.request.url.path,
            here=_here(self.request),
            num=lambda v, digits=1: format_number(v, lang, digits),
            share=lambda v: format_share(v, lang),
            when=lambda v: format_when(v, lang),
            # Sectors, processes and parks as the reader's language names them.
            term=term,
            terms=lambda vs: ", ".join(term(v) for v in vs),
            park=lambda v: term(parks.get(v) or v),
            category=self.category_name,
            feature=lambda v: matcher.feature_name(v, lang),
            role_name=_role_name(t, self.key),
            flash=flash,
            **values,
        )
        return self.finish(HTMLResponse(body, status_code))

    def redirect(self, target: str) -> Response:
        """See ``target`` (303: the browser asks for it with GET)."""
        return self.finish(RedirectResponse(safe_next(target), status.HTTP_303_SEE_OTHER))

    def error(self, code: int, message: str, detail: str = "") -> Response:
        """An error page with ``code``."""
        return self.render("error.html", code, code=code, message=message, detail=detail)


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _role_name(t: Translator, key: KeyInfo | None) -> str:
    if key is None:
        return ""
    if key.role == "firm":
        return t("role_firm", firm=key.firm_id or "")
    return t(f"role_{key.role}")


def page_context(request: Request) -> PageContext:
    """The page's session (a new one for a new visitor) and the key signed in with it."""
    cached = getattr(request.state, "page", None)
    if isinstance(cached, PageContext):
        return cached
    store = sessions_of(request)
    engine = request.app.state.engine
    # A signed-in session's key comes back checked (live, not revoked, not expired) with it.
    session = store.get(engine, request.cookies.get(COOKIE))
    fresh = session is None
    if session is None:
        session = store.new(engine)
    lang = pick_lang(
        session.lang,
        request.cookies.get(LANG_COOKIE),
        accept=request.headers.get("accept-language", ""),
    )
    context = PageContext(request, session, session.key, lang, fresh=fresh)
    request.state.page = context
    return context


def signed_in(context: Annotated[PageContext, Depends(page_context)]) -> PageContext:
    if context.key is None:
        raise SignInNeeded()
    return context


def reader(context: Annotated[PageContext, Depends(signed_in)]) -> PageContext:
    assert context.key is not None
    require_reader(context.key)
    return context


def staff(context: Annotated[PageContext, Depends(signed_in)]) -> PageContext:
    assert context.key is not None
    require_staff(context.key)
    return context


#: Any visitor (the sign-in page).
AnyPage = Annotated[PageContext, Depends(page_context)]
#: A signed-in session: any role.
SignedInPage = Annotated[PageContext, Depends(signed_in)]
#: Staff and analysts (the API's ``ReaderKey``).
ReaderPage = Annotated[PageContext, Depends(reader)]
#: Staff only (the API's ``StaffKey``).
StaffPage = Annotated[PageContext, Depends(staff)]


# -- forms --------------------------------------------------------------------------------------
@dataclass
class Form:
    """A posted form: its text fields and its files (name -> (filename, bytes))."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[-1].strip() if values else default

    def all(self, name: str) -> list[str]:
        return [v.strip() for v in self.fields.get(name, []) if v.strip()]


def _parse(body: bytes, content_type: str) -> Form:
    kind = content_type.split(";")[0].strip().lower()
    form = Form()
    if kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
        message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        for part in message.iter_parts() if message.is_multipart() else ():
            name = str(part.get_param("name", header="content-disposition") or "")
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            if part.get_filename() is not None:
                form.files[name] = (str(part.get_filename()), data)
            else:
                form.fields.setdefault(name, []).append(data.decode("utf-8", "replace"))
        return form
    text = body.decode("utf-8", "replace")
    for name, value in parse_qsl(text, keep_blank_values=True, max_num_fields=2000):
        form.fields.setdefault(name, []).append(value)
    return form


def posted_form(limit: int = MAX_FORM_BYTES) -> Callable[..., Coroutine[Any, Any, Form]]:
    """A dependency: the request's form, read up to ``limit`` bytes, refused (403) without
    this session's CSRF token (the ``csrf`` field, or htmx's ``X-CSRF-Token`` header)."""

    async def read(request: Request, context: AnyPage) -> Form:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise HTTPException(413, f"the form is larger than {limit // 1024} KB")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPException(413, f"the form is larger than {limit // 1024} KB")
            chunks.append(chunk)
        form = _parse(b"".join(chunks), request.headers.get("content-type", ""))
        token = form.get("csrf") or request.headers.get("x-csrf-token", "")
        if not context.session.csrf_matches(token):
            raise CsrfRefused()
        return form

    return read


# -- errors as pages ----------------------------------------------------------------------------
_STATUS_OF = ((NotFound, 404), (Invalid, 422), (Conflict, 409), (Busy, 503))


def _error_page(request: Request, code: int, detail: str, message: str = "") -> Response:
    context = page_context(request)
    t = context.t
    known = {401, 403, 404, 409, 422, 503}
    message = message or t(f"error_{code}" if code in known else "error_other")
    return context.error(code, message, detail)


class PageRoute(APIRoute):
    """A page route: the service's errors answered as HTML pages with the same status code."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                context = page_context(request)
                target = "/sign-in?next=" + quote(_here(request), safe="/")
                return context.redirect(target)
            except CsrfRefused:
                return _error_page(request, 403, "", page_context(request).t("csrf_failed"))
            except HTTPException as exc:
                if exc.status_code == 401:
                    return page_context(request).redirect("/sign-in")
                return _error_page(request, exc.status_code, str(exc.detail))
            except RequestValidationError as exc:
                detail = "; ".join(
                    ".".join(str(p) for p in e.get("loc", ())) + ": " + str(e.get("msg", ""))
                    for e in exc.errors()
                )
                return _error_page(request, 422, detail)
            except tuple(kind for kind, _ in _STATUS_OF) as exc:
                code = next(c for kind, c in _STATUS_OF if isinstance(exc, kind))
                return _error_page(request, code, str(exc.args[0]) if exc.args else "")

        return guarded


def page_count(found: dict[str, Any]) -> int:
    """How many pages a paged answer (``total``, ``page_size``) has."""
    return max(1, -(-int(found["total"]) // int(found["page_size"])))
