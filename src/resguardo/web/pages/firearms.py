"""Firearms: the list (search, filters, sorting, pages), one weapon's record
with its custody timeline, registration, loss and theft reports, and PDFs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from resguardo.domain import corrections, firearm_state, movements
from resguardo.domain.calibres import CALIBRES
from resguardo.domain.codes import FirearmKind, FirearmStatus, OrgKind
from resguardo.domain.corrections import IDENTITY
from resguardo.domain.errors import T_, DomainError, NotFound, ValidationFailed
from resguardo.domain.policy import Action, authorize, may
from resguardo.domain.registry import FirearmInput
from resguardo.services import custody, history, registry
from resguardo.storage import web_queries
from resguardo.web.paging import (
    PER_PAGE,
    Pager,
    clean_params,
    page_number,
    parse_day,
    parse_local_instant,
)
from resguardo.web.site import Ctx, Site, form_data, form_value

#: A batch of labels stops here (20 sheets of 24); narrow the list for more.
MAX_LABELS = 480
FILTERS = ("q", "status", "kind", "agency", "location", "make", "calibre", "sort")
SORTS = ("serial", "make", "status", "since", "calibre", "kind")
VIEWS = ("both", "corrected", "recorded")


def list_firearms(site: Site, ctx: Ctx, params: dict[str, str], page: int,
                  per_page: int = PER_PAGE, exact: bool = False) -> dict[str, Any]:
    """One page of the list: a fixed number of queries, whatever the number of rows.

    With ``exact``, a search whose serial key is exactly one weapon's in scope (and
    within the other filters) answers ``{"exact": firearm_id}`` instead: a scanned
    or typed serial goes straight to the weapon."""
    filters: dict[str, Any] = {}
    if params["q"]:
        filters["search"] = params["q"]
    if params["status"] in {s.value for s in FirearmStatus}:
        filters["status"] = params["status"]
    if params["kind"] in {k.value for k in FirearmKind}:
        filters["kind"] = params["kind"]
    if params["make"]:
        filters["make"] = params["make"]
    if params["calibre"]:
        filters["calibre"] = params["calibre"]
    sort = params["sort"] if params["sort"].lstrip("-") in SORTS else "serial"
    if sort == "-since":
        sort = "since"  # the repository sorts by date newest first and has no reverse for it
    with site.rg.read(ctx.actor, may_lag=True) as uow:
        agencies = uow.repo.orgs(OrgKind.AGENCY)
        by_code = {a.code: a for a in agencies}
        agency = by_code.get(params["agency"])
        if agency is not None:
            filters["agency_id"] = agency.id
        locations = uow.repo.locations(agency.id if agency else None)
        location_by_key = {f"{loc.agency_id}:{loc.code}": loc for loc in locations}
        chosen = location_by_key.get(params["location"])
        if chosen is not None:
            filters["location_id"] = chosen.id
        if exact and params["q"]:
            others = {k: v for k, v in filters.items() if k != "search"}
            same = uow.repo.firearms(limit=2, exact_serial=params["q"], **others)
            if same.total == 1:  # several makes may share a serial: then the list
                return {"exact": same.items[0].id}
        found = uow.repo.firearms(offset=(page - 1) * per_page, limit=per_page, order=sort,
                                  **filters)
        holders = uow.repo.officers_by_id([f.custodian_id for f in found.items])
    names = {a.id: a for a in agencies}
    where = {loc.id: loc for loc in locations}
    rows = []
    for f in found.items:
        holder = holders.get(f.custodian_id or -1)
        rows.append({"f": f, "agency": names.get(f.agency_id),
                     "location": where.get(f.location_id or -1), "holder": holder})
    return {"rows": rows, "total": found.total, "agencies": agencies, "locations": locations,
            "pager": Pager(found.total, page, per_page, params, "/firearms"),
            "filtered": any(params[k] for k in FILTERS if k != "sort"), "params": params,
            "statuses": [s.value for s in FirearmStatus], "kinds": [k.value for k in FirearmKind]}


#: Entries per page of a weapon's custody timeline (newest first).
HISTORY_PAGE = 50


def firearm_record(site: Site, ctx: Ctx, firearm_id: int, view: str, history_page: int = 1
                   ) -> dict[str, Any]:
    with site.rg.read(ctx.actor, may_lag=True) as uow:
        firearm = uow.repo.firearm_by_id(firearm_id)
        detail = history.firearm_detail(
            uow, firearm.serial, make=firearm.make, view=view,
            page=((history_page - 1) * HISTORY_PAGE, HISTORY_PAGE))
        try:
            loss = uow.repo.last_loss_report(firearm.id)
        except NotFound:
            loss = None
        locations = uow.repo.locations(firearm.agency_id)
        agency = uow.repo.org_unscoped(firearm.agency_id)
        pending = []
        for kind in ("decommission", "transfer", "correction"):
            try:
                request = uow.repo.pending_request(firearm.id, kind)
            except NotFound:
                continue
            if kind == "correction":  # what would change, from the request's entry
                asked = uow.repo.event(int(request["id"])).payload
                request["changes"] = [(k, asked["previous"].get(k), v)
                                      for k, v in asked["changes"].items()
                                      if not k.endswith("_key")]
            pending.append(request)
        actions = firearm_state.actions_for(firearm.status)
        transit = None
        receive_at: list = []
        if "transfer_receive" in actions:
            transit = web_queries.transfer_in_transit(uow.repo, firearm.id)
        ids = [p["to_agency_id"] for p in [*pending, *([transit] if transit else [])]
               if p.get("to_agency_id")]
        destinations = {i: uow.repo.org_unscoped(i).name for i in ids}
        if transit is not None:
            # empty unless the receiving agency lies in the viewer's scope
            receive_at = uow.repo.locations(transit["to_agency_id"])
        covering = uow.repo.licences_covering(firearm.agency_id)
        on_licence = next((r["number"] for r in uow.repo.licences()
                           if r["id"] == firearm.licence_id), None)
        # the movements whose form the page draws from the domain's table (their own words)
        offered = [m for m in movements.MOVEMENTS.values()
                   if m.words and m.name in actions and may(ctx.actor, m.permission)]
        destinations_known = []
        if "transfer_request" in actions and may(ctx.actor, Action.TRANSFER_REQUEST):
            destinations_known = [a for a in web_queries.agencies_anywhere(uow.repo)
                                  if a["code"] != agency.code]
    history_rows = list(reversed(detail["history"]))
    return {"firearm": firearm, "d": detail, "history": history_rows, "loss": loss,
            "identification": _identification(firearm), "identity": sorted(IDENTITY),
            "kinds": [k.value for k in FirearmKind],
            "history_page": history_page, "history_older": detail["older"],
            "locations": locations, "agency": agency, "view": view, "pending": pending,
            "destinations": destinations, "transit": transit, "receive_at": receive_at,
            "agency_choices": destinations_known, "covering": covering,
            "on_licence": on_licence, "actions": actions, "offered": offered}


def register(router: APIRouter, site: Site) -> None:

    @router.get("/firearms")
    def firearms_page(request: Request) -> Response:
        ctx = site.viewer(request)
        params = clean_params(request.query_params, FILTERS)
        data = list_firearms(site, ctx, params, page_number(request.query_params), exact=True)
        if "exact" in data:
            return ctx.redirect(f"/firearms/{data['exact']}")  # a serial scan or typed serial
        return ctx.render("firearms/list.html", max_labels=MAX_LABELS, **data)

    @router.get("/firearms/new")
    def new_firearm_page(request: Request) -> Response:
        ctx = site.viewer(request)
        authorize(ctx.actor, Action.FIREARM_REGISTER)  # say so now, not after the form
        return _new_form(site, ctx, {}, None)

    @router.post("/firearms/new")
    def new_firearm(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in (
            "agency", "location", "serial", "make", "model", "calibre", "kind", "folio",
            "barrel_serial", "acquired_on", "supplier", "purchase_ref", "licence")}
        try:
            data = FirearmInput(
                serial=values["serial"], make=values["make"], model=values["model"] or None,
                calibre=values["calibre"], kind=values["kind"] or "pistol",
                folio=values["folio"] or None, barrel_serial=values["barrel_serial"] or None,
                acquired_on=parse_day(values["acquired_on"], "acquired_on"),
                supplier=values["supplier"] or None, purchase_ref=values["purchase_ref"] or None)
            with site.rg.work(ctx.actor) as uow:
                agency = values["agency"] or ctx.actor.scope.code
                ev = registry.register_firearm(uow, agency, values["location"], data,
                                               values["licence"] or None)
                uow.commit()
        except DomainError as exc:
            return _new_form(site, ctx, values, ctx.explain(exc), status=422)
        return ctx.redirect(f"/firearms/{ev.subject_id}", "firearm_added")

    @router.get("/firearms/{firearm_id:int}")
    def firearm_page(request: Request, firearm_id: int) -> Response:
        ctx = site.viewer(request)
        view = request.query_params.get("view", "both")
        view = view if view in VIEWS else "both"
        return ctx.render("firearms/detail.html",
                          **firearm_record(site, ctx, firearm_id, view,
                                           page_number(request.query_params)),
                          error=None, form={})

    @router.post("/firearms/{firearm_id:int}/loss")
    def report_loss(request: Request, firearm_id: int,
                    form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in (
            "what", "occurred_on", "place", "on_duty", "complaint_number",
            "complaint_authority", "notified_at", "reason")}
        try:
            with site.rg.work(ctx.actor) as uow:
                firearm = uow.repo.firearm_by_id(firearm_id)
                occurred = parse_day(values["occurred_on"], "occurred_on")
                if occurred is None:
                    raise ValidationFailed(T_("%(field)s is required"), field="occurred_on")
                if values["what"] not in ("lost", "stolen"):
                    raise ValidationFailed("say whether it was lost or stolen", field="what")
                if values["on_duty"] not in ("yes", "no"):
                    raise ValidationFailed("say whether it happened on duty", field="on_duty")
                custody.report_missing(
                    uow, firearm.serial, make=firearm.make, stolen=values["what"] == "stolen",
                    occurred_on=occurred, place=values["place"],
                    on_duty=values["on_duty"] == "yes",
                    complaint_number=values["complaint_number"] or None,
                    complaint_authority=values["complaint_authority"] or None,
                    notified_at=parse_local_instant(values["notified_at"], "notified_at"),
                    reason=values["reason"] or None)
                uow.commit()
        except DomainError as exc:
            return _detail_with_error(site, ctx, firearm_id, exc, values, "loss")
        return ctx.redirect(f"/firearms/{firearm_id}", "reported")

    @router.post("/firearms/{firearm_id:int}/notify")
    def record_notification(request: Request, firearm_id: int,
                            form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("notified_at", "reference")}
        try:
            with site.rg.work(ctx.actor) as uow:
                firearm = uow.repo.firearm_by_id(firearm_id)
                when = parse_local_instant(values["notified_at"], "notified_at") or uow.now()
                custody.record_notification(uow, firearm.serial, when, make=firearm.make,
                                            reference=values["reference"] or None)
                uow.commit()
        except DomainError as exc:
            return _detail_with_error(site, ctx, firearm_id, exc, values, "notify")
        return ctx.redirect(f"/firearms/{firearm_id}", "notified")

    @router.post("/firearms/{firearm_id:int}/movement")
    def movement(request: Request, firearm_id: int,
                 form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        chosen = movements.MOVEMENTS.get(form_value(form, "action"))
        values = {k: form_value(form, k) for k in (
            "action", "location", "shop", "reason", "to_agency", "kind",
            *(f.name for f in (chosen.inputs if chosen else ())))}
        try:
            if values["action"] not in MOVEMENTS:
                raise ValidationFailed("choose what to do", field="action")
            call, notice = MOVEMENTS[values["action"]]
            with site.rg.work(ctx.actor) as uow:
                firearm = uow.repo.firearm_by_id(firearm_id)
                call(uow, firearm, values)
                uow.commit()
        except DomainError as exc:
            return _detail_with_error(site, ctx, firearm_id, exc, values, values["action"])
        return ctx.redirect(f"/firearms/{firearm_id}", notice)

    @router.post("/firearms/{firearm_id:int}/correct")
    def correct_record(request: Request, firearm_id: int,
                       form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in (*CORRECTABLE, "reason")}
        try:
            with site.rg.work(ctx.actor) as uow:
                firearm = uow.repo.firearm_by_id(firearm_id)
                recorded = _identification(firearm)
                changes = {k: values[k] for k in CORRECTABLE if values[k] != recorded[k]}
                if not changes:
                    raise ValidationFailed("change at least one field to correct it",
                                           field="changes")
                ev = custody.correct(uow, firearm.id, changes, values["reason"])
                uow.commit()
        except DomainError as exc:
            return _detail_with_error(site, ctx, firearm_id, exc, values, "correct")
        asked = ev.type == corrections.REQUESTED
        return ctx.redirect(f"/firearms/{firearm_id}",
                            "correction_requested" if asked else "corrected")

    @router.post("/firearms/{firearm_id:int}/recover")
    def recover(request: Request, firearm_id: int,
                form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("held_by", "circumstances")}
        try:
            with site.rg.work(ctx.actor) as uow:
                firearm = uow.repo.firearm_by_id(firearm_id)
                custody.recover(uow, firearm.serial, values["held_by"],
                                values["circumstances"], make=firearm.make)
                uow.commit()
        except DomainError as exc:
            return _detail_with_error(site, ctx, firearm_id, exc, values, "recover")
        return ctx.redirect(f"/firearms/{firearm_id}", "recovered")

    @router.post("/firearms/{firearm_id:int}/licence")
    def attach_to_licence(request: Request, firearm_id: int,
                          form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("licence", "reason")}
        try:
            with site.rg.work(ctx.actor) as uow:
                firearm = uow.repo.firearm_by_id(firearm_id)
                registry.attach_firearm(uow, firearm.serial, values["licence"] or None,
                                        values["reason"], firearm.make)
                uow.commit()
        except DomainError as exc:
            return _detail_with_error(site, ctx, firearm_id, exc, values, "licence")
        return ctx.redirect(f"/firearms/{firearm_id}",
                            "licence_attached" if values["licence"] else "licence_detached")

    @router.post("/firearms/{firearm_id:int}/release")
    def release(request: Request, firearm_id: int,
                form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("location", "reference")}
        try:
            with site.rg.work(ctx.actor) as uow:
                firearm = uow.repo.firearm_by_id(firearm_id)
                custody.release(uow, firearm.serial, values["location"], values["reference"],
                                make=firearm.make)
                uow.commit()
        except DomainError as exc:
            return _detail_with_error(site, ctx, firearm_id, exc, values, "release")
        return ctx.redirect(f"/firearms/{firearm_id}", "released")

    @router.post("/firearms/{firearm_id:int}/negligence")
    def negligence(request: Request, firearm_id: int,
                   form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in ("negligent", "reason")}
        try:
            if values["negligent"] not in ("yes", "no"):
                raise ValidationFailed("say whether it was negligence", field="negligent")
            with site.rg.work(ctx.actor) as uow:
                firearm = uow.repo.firearm_by_id(firearm_id)
                custody.determine_negligence(uow, firearm.serial, values["negligent"] == "yes",
                                             values["reason"], make=firearm.make)
                uow.commit()
        except DomainError as exc:
            return _detail_with_error(site, ctx, firearm_id, exc, values, "negligence")
        return ctx.redirect(f"/firearms/{firearm_id}", "negligence")


#: Fields of the registration the weapon's page corrects (serial, make, calibre and kind
#: are its identity: a request a chief approves; the rest are corrected at once).
CORRECTABLE = ("serial", "make", "model", "calibre", "kind", "folio", "barrel_serial",
               "ballistic_id")


def _identification(firearm: Any) -> dict[str, str]:
    """The correctable fields as the form shows them (empty for none)."""
    return {k: (getattr(firearm, k).value if k == "kind" else getattr(firearm, k) or "")
            for k in CORRECTABLE}


def _perform(name: str) -> Any:
    return lambda uow, f, v: custody.perform(uow, name, f.serial, v, make=f.make)


#: The notices of the movements that predate ``domain.movements`` (the web's catalogue
#: says them); a movement that brings its words is noticed by its name (``site.NOTICES``).
_NOTICE = {"move": "moved", "repair_send": "repair_sent", "repair_return": "repair_returned",
           "release": "released"}

#: Movements recorded from the weapon's page: action -> (service call, notice). Every
#: movement of the domain's table is one, recorded by the one generic service.
MOVEMENTS: dict[str, tuple[Any, str]] = {
    **{name: (_perform(name), _NOTICE.get(name, name)) for name in movements.MOVEMENTS},
    "decommission_request": (lambda uow, f, v: custody.request_decommission(
        uow, f.serial, v["reason"], make=f.make), "decommission_requested"),
    "decommission_approve": (lambda uow, f, v: custody.approve_decommission(
        uow, f.serial, make=f.make), "decommissioned"),
    "correction_approve": (lambda uow, f, v: custody.approve_correction(
        uow, f.serial, make=f.make), "correction_approved"),
    "transfer_request": (lambda uow, f, v: custody.request_transfer(
        uow, f.serial, v["to_agency"], v["reason"], make=f.make), "transfer_requested"),
    "transfer_approve": (lambda uow, f, v: custody.approve_transfer(
        uow, f.serial, make=f.make), "transfer_sent"),
    "reject": (lambda uow, f, v: custody.reject_request(
        uow, f.serial, v["kind"], v["reason"], make=f.make), "request_rejected"),
}


def _detail_with_error(site: Site, ctx: Ctx, firearm_id: int, exc: DomainError,
                       values: dict[str, str], which: str) -> Response:
    return ctx.render("firearms/detail.html", status=422,
                      **firearm_record(site, ctx, firearm_id, "both"),
                      error=ctx.explain(exc), form={**values, "which": which})


def _new_form(site: Site, ctx: Ctx, values: dict[str, str], error: str | None,
              status: int = 200) -> Response:
    with site.rg.read(ctx.actor) as uow:
        agencies = uow.repo.orgs(OrgKind.AGENCY)
        locations = uow.repo.locations()
        licences = uow.repo.licences()
    return ctx.render("firearms/new.html", status=status, values=values, error=error,
                      agencies=agencies, locations=locations, licences=licences,
                      kinds=[k.value for k in FirearmKind],
                      calibres=[(c.code, c.es if ctx.lang.code == "es" else c.en)
                                for c in CALIBRES])
