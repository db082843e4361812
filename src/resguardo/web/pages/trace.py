"""Trace: candidates for a serial read off a recovered weapon (damaged characters
as '?'), each with its custody chain and who held it on a given date.

Every trace is recorded (who searched what), so the search is a form that
posts and commits. The page is served when ``services.trace`` is installed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from resguardo.domain.codes import FirearmKind, OrgKind
from resguardo.domain.errors import DomainError, PermissionDenied
from resguardo.web.paging import parse_local_instant
from resguardo.web.site import Ctx, Site, form_data, form_value

FIELDS = ("serial", "make", "calibre", "kind", "agency", "date", "reason")


def _service():  # type: ignore[no-untyped-def]
    try:
        from resguardo.services import trace
    except ImportError:
        return None
    return trace if hasattr(trace, "trace") and hasattr(trace, "TraceInput") else None


def _page(site: Site, ctx: Ctx, *, status: int = 200, answer: dict | None = None,
          error: str | None = None, values: dict[str, str] | None = None) -> Response:
    service = _service()
    with site.rg.read(ctx.actor) as uow:
        agencies = uow.repo.orgs(OrgKind.AGENCY)
        try:
            log = service.trace_log(uow, limit=10)["items"]
        except PermissionDenied:
            log = []
    return ctx.render("trace.html", status=status, answer=answer, error=error,
                      values=values or {}, agencies=agencies, log=log,
                      kinds=[k.value for k in FirearmKind])


def register(router: APIRouter, site: Site) -> None:
    service = _service()
    if service is None:
        return
    site.available.add("/trace")

    @router.get("/trace")
    def trace_page(request: Request) -> Response:
        ctx = site.viewer(request)
        from resguardo.domain.policy import Action, authorize
        authorize(ctx.actor, Action.TRACE)  # say so now, not after the form
        return _page(site, ctx)

    @router.post("/trace")
    def run_trace(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in FIELDS}
        ask: dict[str, Any] = {k: values[k] or None for k in ("make", "calibre", "kind",
                                                               "agency")}
        try:
            # the form's time is local to the deployment; the service reads an offset
            local = parse_local_instant(values["date"], "date")
            date = local.isoformat(timespec="minutes") if local else None
            with site.rg.work(ctx.actor) as uow:
                answer = service.trace(uow, service.TraceInput(values["serial"], date=date,
                                                               **ask),
                                       reason=values["reason"] or None)
                uow.commit()  # the trace itself is on record
        except DomainError as exc:
            return _page(site, ctx, status=422, error=ctx.explain(exc), values=values)
        return _page(site, ctx, answer=answer, values=values)
