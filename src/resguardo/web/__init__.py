"""The web interface: server-rendered pages (Jinja2 + htmx) over the services.

``mount(app, resguardo)`` adds the pages to an existing FastAPI application
(the API's, when ``resguardo serve`` runs both); ``create_site(resguardo)``
builds an application with the pages alone.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from resguardo.services.app import Resguardo
from resguardo.web.site import Site, route_class, secure

PAGE_MODULES = ("assets", "auth", "dashboard", "desk", "firearms", "documents", "officers",
                "transfers", "ammunition", "inspections", "alerts", "trace", "imports", "ledger", "admin")


def mount(app: FastAPI, resguardo: Resguardo) -> None:
    """Add the interface's pages and files to ``app``."""
    import importlib

    site = Site(resguardo)
    router = APIRouter(route_class=route_class(site), include_in_schema=False)
    for name in PAGE_MODULES:
        importlib.import_module(f"resguardo.web.pages.{name}").register(router, site)
    app.include_router(router)
    app.state.resguardo_web = site


def create_site(resguardo: Resguardo) -> FastAPI:
    """An application serving the interface alone (tests, and ``resguardo demo`` without the API)."""
    app = FastAPI(title="Resguardo", docs_url=None, redoc_url=None, openapi_url=None)
    mount(app, resguardo)
    site: Site = app.state.resguardo_web

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        from resguardo.web.i18n import Lang, pick_language
        from resguardo.web.site import LANG_COOKIE
        lang = Lang(pick_language(request.cookies.get(LANG_COOKIE)))
        message = (lang.gettext("There is no page at this address.") if exc.status_code == 404
                   else lang.gettext("The address or the form is not valid."))
        response = await run_in_threadpool(site.error_page, request, exc.status_code, message)
        secure(request, response)
        return response

    return app
