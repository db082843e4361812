"""Alerts (acknowledge with a note) and the register of losses and thefts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from resguardo.domain.errors import DomainError
from resguardo.services import alerts as alert_service
from resguardo.web.paging import PER_PAGE, Pager, page_number
from resguardo.web.site import Ctx, Site, form_data, form_value


def _alerts_page(site: Site, ctx: Ctx, show_all: bool, *, status: int = 200,
                 error: str | None = None, failed_key: str | None = None) -> Response:
    settings = site.rg.settings
    params = ctx.request.query_params
    kind = params.get("kind", "")
    with site.rg.read(ctx.actor, may_lag=True) as uow:
        found = alert_service.open_alerts(uow, loss_deadline=settings.loss_notify_deadline,
                                          shift_length=settings.shift_length,
                                          include_acknowledged=show_all)
    kinds = sorted({a.kind.value for a in found})
    if kind in kinds:
        found = [a for a in found if a.kind.value == kind]
    else:
        kind = ""
    found = sorted(found, key=lambda a: (a.acknowledged, a.since), reverse=False)
    page = page_number(params)
    pager = Pager(len(found), page, PER_PAGE, {"all": "1" if show_all else "", "kind": kind},
                  "/alerts")
    shown = found[(page - 1) * PER_PAGE: page * PER_PAGE]
    return ctx.render("alerts.html", status=status, alerts=shown, show_all=show_all,
                      error=error, failed_key=failed_key, pager=pager, kinds=kinds, kind=kind)


def register(router: APIRouter, site: Site) -> None:

    @router.get("/alerts")
    def alerts_page(request: Request) -> Response:
        ctx = site.viewer(request)
        return _alerts_page(site, ctx, request.query_params.get("all") == "1")

    @router.post("/alerts/ack")
    def acknowledge(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        key = form_value(form, "key")
        settings = site.rg.settings
        try:
            with site.rg.work(ctx.actor) as uow:
                alert_service.acknowledge(uow, key, form_value(form, "note"),
                                          loss_deadline=settings.loss_notify_deadline,
                                          shift_length=settings.shift_length)
                uow.commit()
        except DomainError as exc:
            return _alerts_page(site, ctx, False, status=422, error=ctx.explain(exc),
                                failed_key=key)
        return ctx.redirect("/alerts", "acknowledged")

    @router.get("/losses")
    def losses_page(request: Request) -> Response:
        ctx = site.viewer(request)
        with site.rg.read(ctx.actor, may_lag=True) as uow:
            reports = uow.repo.loss_reports()
            names = uow.repo.org_names([r["agency_id"] for r in reports])
        reports.sort(key=lambda r: (r["recovered_at"] is not None, r["notified_at"] is not None,
                                    r["reported_at"]), reverse=False)
        return ctx.render("losses.html", reports=reports, names=names)
