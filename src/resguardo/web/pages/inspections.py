"""Inspections: plan, open, the blind scanning screen (phone or wedge scanner),
close, findings (paged and filtered; answered many at once by the agency, reviewed
and verified by the inspector) and the acta.

Reading a sealed inspection is itself recorded (``access.*``), so even the
pages that only show one run in a unit of work that commits. An agency's own
staff never learn that a sealed inspection of their agency exists: the
service answers them exactly as for a missing one. While an inspection is open
they see that it is open and their registry frozen, nothing of the count: the
scanning screen is not theirs (it answers as a missing page).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData, QueryParams

from resguardo.domain.codes import OrgKind
from resguardo.domain.errors import DomainError, NotFound, ValidationFailed
from resguardo.domain.inspections import ANSWERS, Resolution
from resguardo.domain.policy import Action, may
from resguardo.services import inspections
from resguardo.web.paging import (
    PER_PAGE,
    Pager,
    clean_params,
    page_number,
    parse_day,
)
from resguardo.web.site import Ctx, Site, form_data, form_value


def _list_page(site: Site, ctx: Ctx, *, status: int = 200, error: str | None = None,
               values: dict[str, str] | None = None, ticked: list[str] | None = None
               ) -> Response:
    with site.rg.work(ctx.actor) as uow:
        found = inspections.list_(uow)
        agencies = uow.repo.orgs(OrgKind.AGENCY) if may(ctx.actor, Action.INSPECTION_ORDER) \
            else []
        locations = uow.repo.locations() if agencies else []
        names = {o.code: o.name for o in uow.repo.orgs(OrgKind.AGENCY)}
        # the form's earliest date: the earliest today among the agencies it may plan
        # (Hermosillo's evening is still its today); the service checks each agency's own
        uow.zones_of(a.id for a in agencies)
        today = min((uow.today(a.id) for a in agencies),
                    default=uow.today(ctx.actor.scope.id))
        uow.commit()  # the reads of sealed inspections are on record
    found.sort(key=lambda i: ({"open": 0, "planned": 1, "closed": 2}[i["state"]],
                              i["planned_on"]))
    return ctx.render("inspections/list.html", status=status, inspections=found,
                      agencies=agencies, locations=locations, names=names, error=error,
                      values=values or {}, today=today, codes={a.id: a.code for a in agencies},
                      ticked=set(ticked or ()),
                      can_plan=may(ctx.actor, Action.INSPECTION_ORDER))


FINDING_STATES = ("pending", "answered", "closed")


def _detail(site: Site, ctx: Ctx, inspection_id: int,
            params: QueryParams | None = None) -> dict[str, Any]:
    filters = clean_params(params, ("state", "kind")) if params is not None else {}
    state = filters.get("state") or ""
    if state not in FINDING_STATES:
        state = ""
    page = page_number(params) if params is not None else 1
    with site.rg.work(ctx.actor) as uow:
        data = inspections.show(uow, inspection_id, findings=False)
        agency = uow.repo.org(data["agency"])
        locations = uow.repo.locations(agency.id)
        found = None
        if data["state"] == "closed":
            found = inspections.findings(uow, inspection_id, state=state or None,
                                         kind=filters.get("kind") or None,
                                         offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
        uow.commit()
    if data.get("locations"):
        locations = [loc for loc in locations if loc.code in data["locations"]]
    pager = None
    if found is not None:
        pager = Pager(found["total"], page, PER_PAGE, {"state": state,
                                                       "kind": filters.get("kind", "")},
                      f"/inspections/{inspection_id}")
    return {"i": data, "agency": agency, "locations": locations,
            "findings": found["items"] if found else [], "pager": pager,
            "filters": {"state": state, "kind": filters.get("kind", "")},
            "can_conduct": may(ctx.actor, Action.INSPECTION_CONDUCT),
            "can_answer": may(ctx.actor, Action.FINDING_ANSWER),
            "answers": {k: sorted(r.value for r in v) for k, v in ANSWERS.items()},
            "all_answers": [r.value for r in Resolution]}


def register(router: APIRouter, site: Site) -> None:

    @router.get("/inspections")
    def inspections_page(request: Request) -> Response:
        ctx = site.viewer(request)
        return _list_page(site, ctx)

    @router.post("/inspections")
    def plan(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("agency", "planned_on", "people")}
        sealed = form_value(form, "sealed") == "yes"
        locations = [v for v in form.getlist("locations") if isinstance(v, str) and v]
        try:
            day = parse_day(values["planned_on"], "planned_on")
            if day is None:
                raise ValidationFailed("the planned date is required", field="planned_on")
            with site.rg.work(ctx.actor) as uow:
                # "AGENCY:CODE" as ticked: another agency's location is refused, not dropped
                ev = inspections.plan(uow, values["agency"], day, sealed=sealed,
                                      locations=locations,
                                      people=[p for p in values["people"].splitlines()])
                uow.commit()
        except DomainError as exc:
            return _list_page(site, ctx, status=422, error=ctx.explain(exc),
                              values={**values, "sealed": "yes" if sealed else ""},
                              ticked=locations)
        return ctx.redirect(f"/inspections/{ev.subject_id}", "inspection_planned")

    @router.get("/inspections/{inspection_id:int}")
    def inspection_page(request: Request, inspection_id: int) -> Response:
        ctx = site.viewer(request)
        return ctx.render("inspections/detail.html",
                          **_detail(site, ctx, inspection_id, request.query_params), error=None)

    @router.get("/inspections/{inspection_id:int}/scan")
    def scan_page(request: Request, inspection_id: int) -> Response:
        ctx = site.viewer(request)
        return _scan_page(site, ctx, inspection_id, location=request.query_params.get(
            "location", ""))

    @router.post("/inspections/{inspection_id:int}/scan")
    def scan(request: Request, inspection_id: int,
             form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        location = form_value(form, "location")
        source = form_value(form, "source")
        try:
            with site.rg.work(ctx.actor) as uow:
                inspections.scan(uow, inspection_id, form_value(form, "serial"),
                                 location=location or None,
                                 holder=form_value(form, "holder") or None,
                                 source=source if source in ("camera", "wedge") else "typed")
                uow.commit()
        except DomainError as exc:
            return _scan_page(site, ctx, inspection_id, location=location, status=422,
                              error=ctx.explain(exc))
        return _scan_page(site, ctx, inspection_id, location=location, scanned=True)

    # after the scan routes: /{action} would otherwise take /scan as an action
    @router.post("/inspections/{inspection_id:int}/{action}")
    def inspection_action(request: Request, inspection_id: int, action: str,
                          form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        target = f"/inspections/{inspection_id}"
        notice = None
        closed = None
        try:
            with site.rg.work(ctx.actor) as uow:
                if action == "open":
                    inspections.open_(uow, inspection_id,
                                      form_value(form, "people").splitlines())
                    target, notice = f"{target}/scan", "inspection_opened"
                elif action == "close":
                    # a day: the service ends it at midnight where the agency is
                    closed = inspections.close(uow, inspection_id, lang=ctx.lang.code,
                                               present_by=parse_day(
                                                   form_value(form, "present_by"),
                                                   "present_by"))
                    notice = "inspection_closed"
                elif action == "answer":
                    inspections.answer(uow, inspection_id, _chosen(form),
                                       form_value(form, "resolution"),
                                       form_value(form, "reason"),
                                       form_value(form, "evidence"))
                    notice = "finding_answered"
                elif action in ("accept", "reopen"):
                    inspections.review(uow, inspection_id, _chosen(form),
                                       accept=action == "accept", note=form_value(form, "note"))
                    notice = "finding_reviewed"
                elif action == "verify":
                    inspections.verify(uow, inspection_id, form_value(form, "serial"),
                                       holder=form_value(form, "holder") or None)
                    notice = "finding_verified"
                else:
                    raise NotFound("page not found")
                uow.commit()
        except DomainError as exc:
            return ctx.render("inspections/detail.html", status=422,
                              **_detail(site, ctx, inspection_id, request.query_params),
                              error=ctx.explain(exc))
        if closed is not None:
            # the overseer's witness cosigns a checkpoint covering the closing (or says why not)
            inspections.witness_closing(site.rg, closed)
        return ctx.redirect(target, notice)

    @router.get("/inspections/{inspection_id:int}/acta.pdf")
    def acta(request: Request, inspection_id: int) -> Response:
        ctx = site.viewer(request)
        with site.rg.work(ctx.actor) as uow:
            pdf, digest = inspections.acta(uow, inspection_id)
            uow.commit()
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="acta-{inspection_id}.pdf"',
            "X-Acta-SHA256": digest})


def _chosen(form: FormData) -> list[int]:
    """The findings ticked on the page."""
    chosen = [int(v) for v in form.getlist("finding") if isinstance(v, str) and v.isdigit()]
    if not chosen:
        raise ValidationFailed("choose at least one finding", field="finding")
    return chosen


def _scan_page(site: Site, ctx: Ctx, inspection_id: int, *, location: str, status: int = 200,
               error: str | None = None, scanned: bool = False) -> Response:
    data = _detail(site, ctx, inspection_id)
    if not data["can_conduct"]:
        # the count is the inspectors': to anyone else this page does not exist
        raise NotFound("page not found")
    if not location and data["locations"]:
        location = data["locations"][0].code
    return ctx.render("inspections/scan.html", status=status, **data, error=error,
                      location=location, scanned=scanned)
