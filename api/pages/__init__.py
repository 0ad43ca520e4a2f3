"""ketnoi.api.pages: the workbench, web pages for programme staff, analysts and firms.

Served by the same FastAPI app as the JSON API (:func:`install`), out of its OpenAPI document.
Pages are Jinja2 templates with htmx (vendored in ``static/``, nothing from a CDN); a page
route calls the same service function as its ``/v1`` route with the session's key, so a page
and the API can never disagree on what a key may see. Signing in turns an API key into a
server-side session (:mod:`._session`); every form carries a CSRF token; every string is in
Vietnamese and English (:mod:`._i18n`).
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ketnoi.api.pages import (
    _routes_core,
    _routes_events,
    _routes_firms,
    _routes_introductions,
    _routes_programme,
    _routes_resolution,
)
from ketnoi.api.pages._i18n import LANGS, MESSAGES
from ketnoi.api.pages._session import SessionStore

__all__ = ["LANGS", "MESSAGES", "ROUTERS", "STATIC", "install"]

#: The vendored and own static files (``/static``).
STATIC = Path(__file__).resolve().with_name("static")


#: The page routers, in the order they are added (tests walk their routes).
ROUTERS = (
    _routes_core.router,
    _routes_firms.router,
    _routes_introductions.router,
    _routes_programme.router,
    _routes_events.router,
    _routes_resolution.router,
)


def install(app: FastAPI) -> None:
    """Add the workbench's pages and static files to ``app`` (none in its OpenAPI document)."""
    app.state.page_sessions = SessionStore()
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
