"""The shift desk: badge scan, serial scan, the officer's PIN; keyboard only.

One form, three steps (the third, for a return, is the armorer's confirmation:
no PIN, the armorer receives the weapon). An officer without a PIN sets their
first one here (``POST /desk/pin``): the officer types it twice and the armorer
confirms having checked the officer's identity in person. Each scan ends with Enter (as a keyboard-wedge scanner
sends it); the page answers with the next field focused. A refusal is shown in
red and puts the cursor back in the field to scan again. Esc starts over.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from resguardo.domain.errors import DomainError, OfficerNotEligible, ValidationFailed
from resguardo.services import desk, pins
from resguardo.web.site import Ctx, Site, form_data, form_value


def _render(site: Site, ctx: Ctx, step: str, *, status: int = 200, **values: Any) -> Response:
    with site.rg.read(ctx.actor) as uow:
        locations = desk.desk_locations(uow)
        # an open revista freezes the desk: said before anyone scans (nothing of the count)
        frozen = (uow.open_inspection(ctx.actor.scope.id) is not None
                  if ctx.actor.scope.holds_weapons else False)
        firearm_id = ctx.request.query_params.get("firearm")
        last = None
        if firearm_id and firearm_id.isdigit():
            try:
                last = uow.repo.firearm_by_id(int(firearm_id))
            except DomainError:
                last = None
    values.setdefault("card", None)
    values.setdefault("plan", None)
    values.setdefault("error", None)
    values.setdefault("badge", "")
    values.setdefault("serial", "")
    values.setdefault("location", locations[0].code if locations else "")
    values.setdefault("attempts_left", None)
    values.setdefault("pin_notices", [])
    return ctx.render("desk.html", status=status, step=step, locations=locations, last=last,
                      frozen=frozen, **values)


def register(router: APIRouter, site: Site) -> None:

    @router.get("/desk")
    def desk_page(request: Request) -> Response:
        ctx = site.viewer(request)
        return _render(site, ctx, "badge")

    @router.post("/desk/pin")
    def desk_first_pin(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        return _first_pin(site, ctx, form)

    @router.post("/desk")
    def desk_step(request: Request, form: FormData = Depends(form_data)) -> Response:
        ctx = site.viewer(request, form)
        badge = form_value(form, "badge")
        serial = form_value(form, "serial")
        pin = form_value(form, "pin")
        confirmed = form_value(form, "confirm") == "return"  # the armorer receives it
        location = form_value(form, "location") or None
        if not serial:
            try:
                with site.rg.read(ctx.actor) as uow:
                    card = desk.officer_card(uow, badge)
            except DomainError as exc:
                return _render(site, ctx, "badge", status=422, badge=badge,
                               error=ctx.explain(exc))
            if card.problems and not card.override and not card.held:
                # nothing to take back and nothing may go out: say so before any serial scan
                refused = OfficerNotEligible("officer may not receive a weapon",
                                             badge=card.officer.badge, problems=card.problems)
                return _render(site, ctx, "badge", status=422, card=card,
                               error=ctx.explain(refused))
            return _render(site, ctx, "serial", badge=card.officer.badge, card=card)
        if not pin and not confirmed:
            try:
                with site.rg.read(ctx.actor) as uow:  # a refused attempt records itself
                    card = desk.officer_card(uow, badge)
                    plan = desk.plan(uow, badge, serial, location)
            except DomainError as exc:
                return _refused(site, ctx, badge, exc)
            return _render(site, ctx, "pin", badge=card.officer.badge, card=card, plan=plan,
                           serial=plan.firearm.serial,
                           location=plan.location.code if plan.location else location)
        try:
            with site.rg.work(ctx.actor) as uow:
                plan, _event = desk.perform(uow, badge, serial, pin or None, location)
                uow.commit()
        except pins.PinRejected as exc:
            left = None
            if exc.details.get("reason") == "wrong":
                with site.rg.work(ctx.actor) as uow:
                    officer = uow.repo.officer(ctx.actor.scope.id, badge)
                    left = pins.count_failure(uow, officer.id, officer.agency_id)
                    uow.commit()
            with site.rg.read(ctx.actor) as uow:
                try:
                    card = desk.officer_card(uow, badge)
                    plan = desk.plan(uow, badge, serial, location)
                except DomainError as again:
                    return _refused(site, ctx, badge, again)
            return _render(site, ctx, "pin", status=422, badge=card.officer.badge, card=card,
                           plan=plan, serial=plan.firearm.serial, error=ctx.explain(exc),
                           attempts_left=left, location=location or "")
        except DomainError as exc:
            return _refused(site, ctx, badge, exc)
        done = "issued" if plan.action == desk.ISSUE else "returned"
        return ctx.redirect(f"/desk?firearm={plan.firearm.id}", done)


def _first_pin(site: Site, ctx: Ctx, form: FormData) -> Response:
    """The officer sets their first PIN; back to the step the desk was at."""
    badge = form_value(form, "badge")
    serial = form_value(form, "serial")
    location = form_value(form, "location") or None
    error = None
    try:
        if form_value(form, "new_pin") != form_value(form, "new_pin2"):
            raise ValidationFailed("the two PINs differ", field="pin")
        with site.rg.work(ctx.actor) as uow:
            pins.set_first_pin(uow, ctx.actor.scope.code, badge, form_value(form, "new_pin"),
                               identity_checked=form_value(form, "identity_checked") == "yes")
            uow.commit()
    except DomainError as exc:
        error = ctx.explain(exc)
    status = 422 if error else 200
    notices = [] if error else [("ok", ctx._("PIN set. The officer can confirm at the shift desk."))]
    try:
        with site.rg.read(ctx.actor) as uow:
            card = desk.officer_card(uow, badge)
            plan = desk.plan(uow, badge, serial, location) if serial else None
    except DomainError as exc:
        return _refused(site, ctx, badge, exc)
    if plan is not None:
        return _render(site, ctx, "pin", status=status, badge=card.officer.badge, card=card,
                       plan=plan, serial=plan.firearm.serial, error=error, pin_notices=notices,
                       location=plan.location.code if plan.location else location)
    return _render(site, ctx, "serial", status=status, badge=card.officer.badge, card=card,
                   error=error, pin_notices=notices)


def _refused(site: Site, ctx: Ctx, badge: str, exc: DomainError) -> Response:
    """Back to the serial step (or the badge step, when the badge itself is the problem)."""
    try:
        with site.rg.read(ctx.actor) as uow:
            card = desk.officer_card(uow, badge)
    except DomainError:
        return _render(site, ctx, "badge", status=422, badge=badge, error=ctx.explain(exc))
    return _render(site, ctx, "serial", status=422, badge=card.officer.badge, card=card,
                   error=ctx.explain(exc))
