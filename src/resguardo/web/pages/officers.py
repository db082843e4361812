"""Officers: the list, one officer's record (weapons held now, history), and
what a chief does for them: register, set the desk PIN, suspend, reinstate,
separate, renew credentials, grant an override, lift a PIN lock."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from resguardo.domain.codes import OfficerStatus, OrgKind
from resguardo.domain.errors import DomainError, NotFound, ValidationFailed
from resguardo.domain.policy import Action, authorize
from resguardo.domain.registry import OfficerInput
from resguardo.reports.pin_slips import SlipData, slips_pdf
from resguardo.services import credential, custody, pins, registry
from resguardo.services.credential import CredentialKey
from resguardo.storage import api_queries, web_queries
from resguardo.web.credential_print import credential_document
from resguardo.web.paging import PER_PAGE, Pager, clean_params, page_number, parse_day
from resguardo.web.site import Ctx, Site, form_data, form_value

FILTERS = ("agency", "status", "q")
ACTIONS = {
    "suspend": registry.suspend_officer,
    "reinstate": registry.reinstate_officer,
    "separate": registry.separate_officer,
}


#: Custody entries per page of an officer's record.
CUSTODY_PAGE = 25
#: Other entries about the officer shown (the latest; the ledger keeps them all).
OTHER_ENTRIES = 50


def officer_record(site: Site, ctx: Ctx, officer_id: int, custody_page: int = 1
                   ) -> dict[str, Any]:
    offset = (custody_page - 1) * CUSTODY_PAGE
    with site.rg.read(ctx.actor, may_lag=True) as uow:
        officer = uow.repo.officer_by_id(officer_id)
        held = uow.repo.weapons_held(officer.id)
        of_record = credential.of_record(uow, officer)
        events, more_events = web_queries.subject_events(uow.repo, "officer", officer.id,
                                                         limit=OTHER_ENTRIES)
        agency = uow.repo.org_unscoped(officer.agency_id)
        has_pin = bool(pins.has_pin(uow, [officer.id]))
        pin_locked_until = pins.locked_until(uow, officer.id) if has_pin else None
        licences = {row["id"]: row["number"] for row in uow.repo.licences()}
        today = uow.today(officer.agency_id)  # expired once its day is over there
        moves, older = web_queries.officer_custody(uow.repo, officer.id, officer.agency_id,
                                                   offset=offset, limit=CUSTODY_PAGE)
        weapons = web_queries.firearm_names_unscoped(uow.repo, [e.payload.get("firearm_id")
                                                        for e in moves])
        places = uow.repo.location_codes([e.payload.get("location_id") for e in moves])
    custody_rows = [{"e": e, "firearm": weapons.get(e.payload.get("firearm_id") or -1),
                     "location": places.get(e.payload.get("location_id") or -1)}
                    for e in moves]
    return {"officer": officer, "held": held, "of_record": of_record, "events": events, "more_events": more_events,
            "agency": agency, "has_pin": has_pin, "pin_locked_until": pin_locked_until,
            "today": today,
            "licence": licences.get(officer.licence_id) if officer.licence_id else None,
            "custody": custody_rows, "custody_page": custody_page, "custody_older": older}


def register(router: APIRouter, site: Site) -> None:

    @router.get("/officers")
    def officers_page(request: Request) -> Response:
        ctx = site.viewer(request)
        params = clean_params(request.query_params, FILTERS)
        page = page_number(request.query_params)
        with site.rg.read(ctx.actor, may_lag=True) as uow:
            agencies = uow.repo.orgs(OrgKind.AGENCY)
            by_code = {a.code: a for a in agencies}
            agency = by_code.get(params["agency"])
            status = params["status"] if params["status"] in {s.value for s in OfficerStatus} \
                else None
            listing = api_queries.officers_matching(
                uow.repo, agency_id=agency.id if agency else None, status=status,
                q=params["q"] or None, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
            if params["q"] and listing.total == 1:
                return ctx.redirect(f"/officers/{listing.items[0].id}")  # a badge scan
            # one query for the whole page: weapons out now, counted per officer
            held = Counter((r["agency_id"], r["badge"]) for r in uow.repo.issued_weapons())
        names = {a.id: a for a in agencies}
        not_found = params["q"] if params["q"] and not listing.total else None
        return ctx.render("officers/list.html", officers=listing.items, total=listing.total,
                          pager=Pager(listing.total, page, PER_PAGE, params, "/officers"),
                          agencies=agencies, names=names, params=params, not_found=not_found,
                          statuses=[s.value for s in OfficerStatus], held=held)

    @router.get("/officers/new")
    def new_officer_page(request: Request) -> Response:
        ctx = site.viewer(request)
        authorize(ctx.actor, Action.OFFICER_MANAGE)  # say so now, not after the form
        return _new_form(site, ctx, {}, None)

    @router.post("/officers/new")
    def new_officer(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in (
            "agency", "badge", "name", "cuip", "credential_folio", "credential_expiry",
            "qualification_expiry", "licence")}
        try:
            data = OfficerInput(
                badge=values["badge"], name=values["name"], cuip=values["cuip"] or None,
                credential_folio=values["credential_folio"] or None,
                credential_expiry=parse_day(values["credential_expiry"], "credential_expiry"),
                qualification_expiry=parse_day(values["qualification_expiry"],
                                               "qualification_expiry"))
            with site.rg.work(ctx.actor) as uow:
                agency = values["agency"] or ctx.actor.scope.code
                ev = registry.add_officer(uow, agency, data, values["licence"] or None)
                uow.commit()
        except DomainError as exc:
            return _new_form(site, ctx, values, ctx.explain(exc), status=422)
        return ctx.redirect(f"/officers/{ev.subject_id}", "officer_added")

    @router.get("/officers/pin-slips")
    def pin_slips_page(request: Request) -> Response:
        ctx = site.viewer(request)
        authorize(ctx.actor, Action.OFFICER_MANAGE)  # say so now, not after the form
        return _slips_page(site, ctx, None, request.query_params.get("agency", ""))

    @router.post("/officers/pin-slips")
    def pin_slips(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        agency = form_value(form, "agency") or ctx.actor.scope.code
        try:
            with site.rg.work(ctx.actor) as uow:
                slips = pins.issue_slips(uow, agency)
                org = uow.repo.org(agency)
                printed = uow.now()
                uow.commit()
        except DomainError as exc:
            return _slips_page(site, ctx, ctx.explain(exc), agency, status=422)
        body = slips_pdf([SlipData(org.name, s.officer.badge, s.officer.name, s.pin)
                          for s in slips], ctx.lang.gettext,
                         printed_on=ctx.lang.datetime(printed), printed_by=ctx.actor.username)
        return Response(body, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="nip-{org.code}.pdf"',
            "Cache-Control": "no-store"})

    @router.get("/officers/{officer_id:int}")
    def officer_page(request: Request, officer_id: int) -> Response:
        ctx = site.viewer(request)
        record = officer_record(site, ctx, officer_id, page_number(request.query_params))
        return ctx.render("officers/detail.html", **record, error=None, form={})

    @router.get("/officers/{officer_id:int}/credential.pdf")
    def credential_pdf(request: Request, officer_id: int) -> Response:
        """The officer's credential and resguardo of his weapons of record, with the signed
        QR (signing is recorded: ``export.credential``)."""
        ctx = site.viewer(request)
        key = CredentialKey.of(site.rg.settings)
        with site.rg.work(ctx.actor) as uow:
            officer = uow.repo.officer_by_id(officer_id)
            agency = uow.repo.org_unscoped(officer.agency_id)
            card = credential.credential(uow, key, officer.badge, agency_code=agency.code)
            printed = ctx.lang.datetime(uow.now())
            uow.commit()
        body = credential_document(card, ctx.lang, card.licence, printed)
        return Response(body, media_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="credential-{officer.badge}.pdf"'})

    @router.post("/officers/{officer_id:int}/{action}")
    def officer_action(request: Request, officer_id: int, action: str,
                       form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        values = {k: form_value(form, k) for k in (
            "reason", "pin", "pin2", "credential_folio", "credential_expiry",
            "qualification_expiry", "credential_issued", "hours", "serial")}
        notice = "officer_changed"
        try:
            with site.rg.work(ctx.actor) as uow:
                officer = uow.repo.officer_by_id(officer_id)
                agency = uow.repo.org_unscoped(officer.agency_id).code
                if action in ACTIONS:
                    ACTIONS[action](uow, agency, officer.badge, values["reason"])
                elif action == "pin":
                    if values["pin"] != values["pin2"]:
                        raise ValidationFailed("the two PINs differ", field="pin")
                    pins.set_pin(uow, agency, officer.badge, values["pin"])
                    notice = "pin_set"
                elif action == "unlock":
                    pins.lift_lock(uow, agency, officer.badge, values["reason"])
                    notice = "pin_unlocked"
                elif action == "renew":
                    registry.renew_officer(
                        uow, agency, officer.badge,
                        credential_folio=values["credential_folio"] or None,
                        credential_expiry=parse_day(values["credential_expiry"],
                                                    "credential_expiry"),
                        qualification_expiry=parse_day(values["qualification_expiry"],
                                                       "qualification_expiry"),
                        credential_issued=parse_day(values["credential_issued"],
                                                    "credential_issued"))
                elif action == "assign":
                    credential.assign(uow, officer.badge, values["serial"],
                                      reason=values["reason"] or None)
                    notice = "record_assigned"
                elif action == "unassign":
                    credential.unassign(uow, officer.badge, values["serial"], values["reason"])
                    notice = "record_withdrawn"
                elif action == "override":
                    try:
                        hours = float(values["hours"] or 12)
                    except ValueError:
                        raise ValidationFailed("hours must be a number", field="hours") from None
                    custody.grant_override(uow, agency, officer.badge, values["reason"], hours)
                    notice = "override_granted"
                else:
                    raise NotFound("page not found")
                uow.commit()
        except DomainError as exc:
            values.pop("pin", None)
            values.pop("pin2", None)
            return ctx.render("officers/detail.html", status=422,
                              **officer_record(site, ctx, officer_id), error=ctx.explain(exc),
                              form={**values, "which": action})
        return ctx.redirect(f"/officers/{officer_id}", notice)


def _slips_page(site: Site, ctx: Ctx, error: str | None, agency_code: str,
                status: int = 200) -> Response:
    """How many active officers of the agency have no PIN yet, and the button to print."""
    with site.rg.read(ctx.actor) as uow:
        agencies = [a for a in uow.repo.orgs(OrgKind.AGENCY)]
        chosen = next((a for a in agencies if a.code == agency_code), None)
        if chosen is None and ctx.actor.scope.holds_weapons:
            chosen = ctx.actor.scope
        without = None
        if chosen is not None:
            active = uow.repo.officers(agency_id=chosen.id, status="active", limit=100000)
            have = pins.has_pin(uow, [o.id for o in active.items])
            without = sum(1 for o in active.items if o.id not in have)
    return ctx.render("officers/pin_slips.html", status=status, agencies=agencies,
                      chosen=chosen, without=without, error=error)


def _new_form(site: Site, ctx: Ctx, values: dict[str, str], error: str | None,
              status: int = 200) -> Response:
    with site.rg.read(ctx.actor) as uow:
        agencies = uow.repo.orgs(OrgKind.AGENCY)
        licences = uow.repo.licences()
    return ctx.render("officers/new.html", status=status, values=values, error=error,
                      agencies=agencies, licences=licences)
