"""One error shape for every error: ``{"error": {"code", "message", "details"}}``.

Domain refusals keep their stable code and HTTP status; payload validation is
the only 422 (``validation_failed``); unknown routes and methods, a busy
database, a full disk (``storage_full``) and unexpected failures get the same
shape. Every status an operation
can answer with is declared in the OpenAPI document with the codes behind it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from resguardo.domain.errors import DomainError, all_error_classes
from resguardo.services import storage_health
from resguardo.storage.database import STORAGE_FULL, database_errors, is_storage_full

log = logging.getLogger("resguardo.api")


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable code (never renamed).")
    message: str = Field(description="What went wrong, for a person.")
    details: dict[str, Any] = Field(default_factory=dict,
                                    description="Fields involved and other specifics.")


class ErrorResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"error": {"code": "not_found", "message": "firearm not found", "details": {}}}]})

    error: ErrorBody


#: Codes the HTTP layer itself answers with, besides the domain's.
HTTP_CODES: dict[int, list[str]] = {
    401: ["authentication_failed"],
    404: ["not_found"],
    405: ["method_not_allowed"],
    409: ["idempotency_key_reused"],
    422: ["validation_failed"],
    500: ["internal_error"],
    503: ["storage_full", "unavailable"],
}


def codes_by_status() -> dict[int, list[str]]:
    """Every error code, grouped by the status it is answered with."""
    found: dict[int, set[str]] = {}
    for cls in all_error_classes():
        found.setdefault(cls.status, set()).add(cls.code)
    for status, codes in HTTP_CODES.items():
        found.setdefault(status, set()).update(codes)
    return {status: sorted(codes) for status, codes in sorted(found.items())}


_TITLES = {400: "Bad request", 401: "Not signed in, or the credentials were refused",
           403: "The role may not do this", 404: "Not found, or outside the caller's scope",
           405: "Method not allowed", 409: "Conflicts with recorded state",
           422: "The payload is not valid", 423: "Locked", 429: "Too many attempts",
           500: "Unexpected server error",
           503: "The database is busy or unreachable (retry), its storage is full, or the "
                "deployment cannot sign checkpoints (writes refused)"}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these statuses (all error statuses by default)."""
    table = codes_by_status()
    wanted = statuses or tuple(s for s in table if s != 405)
    out: dict[int | str, dict[str, Any]] = {}
    for status in wanted:
        codes = ", ".join(f"`{c}`" for c in table.get(status, []))
        out[status] = {"model": ErrorResponse,
                       "description": f"{_TITLES.get(status, 'Error')}. Codes: {codes}."}
    return out


def error_json(status: int, code: str, message: str, details: dict[str, Any] | None = None,
               headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message,
                      "details": jsonable_encoder(details or {})}}
    return JSONResponse(body, status_code=status, headers=headers)


def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers: dict[str, str] = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if exc.status == 429 and "retry_after" in exc.details:
        headers["Retry-After"] = str(exc.details["retry_after"])
    return error_json(exc.status, exc.code, exc.message, exc.details, headers or None)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        errors.append({"field": ".".join(loc[1:]) if len(loc) > 1 else ".".join(loc),
                       "location": loc[0] if loc else "", "message": err.get("msg", ""),
                       "type": err.get("type", "")})
    first = errors[0] if errors else {"field": "", "message": "invalid request"}
    message = (f"{first['field']}: {first['message']}" if first["field"]
               else str(first["message"]))
    return error_json(422, "validation_failed", message, {"errors": errors})


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    site = getattr(request.app.state, "resguardo_web", None)
    if site is not None and not request.url.path.startswith("/api/"):
        return _web_error_page(site, request, exc.status_code)
    if exc.status_code == 400:
        # the framework could not even parse the body: a payload that fails validation
        return error_json(422, "validation_failed", "the request body could not be parsed",
                          {"errors": [{"field": "", "location": "body",
                                       "message": str(exc.detail), "type": "parse_error"}]})
    code = {404: "not_found", 405: "method_not_allowed", 401: "authentication_failed"}.get(
        exc.status_code, f"http_{exc.status_code}")
    message = {404: "no such resource", 405: "method not allowed on this resource"}.get(
        exc.status_code, str(exc.detail))
    return error_json(exc.status_code, code, message, {}, getattr(exc, "headers", None))


def _web_error_page(site: Any, request: Request, status: int) -> Response:
    """Outside /api, the web interface (when mounted beside the API) answers in HTML."""
    from resguardo.web.i18n import Lang, pick_language
    from resguardo.web.site import LANG_COOKIE
    lang = Lang(pick_language(request.cookies.get(LANG_COOKIE)))
    message = (lang.gettext("There is no page at this address.") if status == 404
               else lang.gettext("The address or the form is not valid."))
    return site.error_page(request, status, message)


def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if is_storage_full(exc):
        # retrying will not help until someone frees space: say so, and log it loudly
        log.error("storage full on %s %s: %s", request.method, request.url.path, exc)
        deployment = getattr(request.app.state, "resguardo", None)
        if deployment is not None:  # an alert for the administrators (services.storage_health)
            storage_health.note_full(deployment.engine, f"{request.method} {request.url.path}")
        return error_json(503, "storage_full", STORAGE_FULL, {}, {"Retry-After": "60"})
    log.warning("database error on %s %s: %s", request.method, request.url.path, exc)
    return error_json(503, "unavailable", "the database is busy or unreachable; retry",
                      {}, {"Retry-After": "1"})


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # exc_info names the exception itself: the handler runs after it was caught
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_json(500, "internal_error", "unexpected server error; it has been logged")


def install(app: FastAPI) -> None:
    """Register the one error handler family on the application."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for cls in database_errors(postgresql=True):
        app.add_exception_handler(cls, _database_error)
    app.add_exception_handler(Exception, _unexpected)
